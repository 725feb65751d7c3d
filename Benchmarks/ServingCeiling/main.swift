import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServerLogging

/// The ceiling of the node's HTTP stack for `hack/bench/serving.sh`: the same Hummingbird
/// server, reading each request body and answering a fixed JSON body, with no scoring at all.
/// Usage: serving-ceiling PORT BODY_FILE (port 0 picks a free one; prints the URL).
struct FixedBodyResponder: HTTPResponder {
    typealias Context = BasicRequestContext
    let body: ByteBuffer

    func respond(to request: Request, context: Context) async throws -> Response {
        _ = try await request.body.collect(upTo: 16 * 1024 * 1024)
        var fields = HTTPFields()
        fields.append(HTTPField(name: .contentType, value: "application/json"))
        return Response(status: .ok, headers: fields, body: ResponseBody(byteBuffer: body))
    }
}

let arguments = CommandLine.arguments
guard arguments.count == 3, let port = Int(arguments[1]), let answer = FileManager.default.contents(atPath: arguments[2]) else {
    FileHandle.standardError.write(Data("usage: serving-ceiling PORT BODY_FILE\n".utf8))
    exit(2)
}
// The node's log handler, so that the ceiling pays what the node's HTTP stack pays per request.
LoggingSystem.bootstrap(DeferredMetadataLogHandler.init(label:))
var logger = Logger(label: "serving-ceiling")
logger.logLevel = .warning
let application = Application(
    responder: FixedBodyResponder(body: ByteBuffer(bytes: answer)),
    configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: port), serverName: "serving-ceiling"),
    onServerRunning: { channel in
        FileHandle.standardOutput.write(Data("serving-ceiling: serving on http://127.0.0.1:\(channel.localAddress?.port ?? port)\n".utf8))
    }, logger: logger)
try await application.runService()
