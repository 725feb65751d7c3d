import Crypto
import DeployerModel
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle

/// The node's HTTP server: `/public/api/v1/...` (queries), `/admin/api/...` (admin keys) and
/// `/isAlive/` (503 while the drain file `apinode-not-alive.txt` exists).
public struct NodeServer {
    /// Largest query body (413 beyond).
    public static let maximumQueryBytes = 16 * 1024 * 1024
    /// Largest package upload.
    public static let maximumArchiveBytes = 2 * 1024 * 1024 * 1024

    /// Builds the application on `host:port` (0 picks a free port), over HTTPS when `tls` is
    /// given; `onListening` gets the URL.
    public static func make(
        runtime: NodeRuntime, queryLog: QueryLog, host: String, port: Int, tls: NodeTLS? = nil, platform: PlatformServing? = nil,
        logger: Logger, onListening: @escaping @Sendable (String) async -> Void
    ) throws -> some Service {
        let responder = NodeResponder(
            runtime: runtime, admin: AdminAPI(runtime: runtime, keys: AdminKeyStore(dataDirectory: runtime.dataDirectory)),
            metrics: NodeMetrics(), queryLog: queryLog, adminNeedsClientCertificate: tls?.verifiesClients ?? false, platform: platform)
        let server: HTTPServerBuilder = try tls.map { try .tls(.http1(), tlsConfiguration: $0.configuration) } ?? .http1()
        let scheme = tls == nil ? "http" : "https"
        return Application(
            responder: responder, server: server,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "apinode"),
            onServerRunning: { channel in await onListening("\(scheme)://\(host):\(channel.localAddress?.port ?? port)") }, logger: logger)
    }
}

/// The node's TLS certificate chain and private key, read from PEM files, and optionally the CA
/// whose client certificates the admin API requires.
public struct NodeTLS: Sendable {
    var configuration: TLSConfiguration
    /// Whether the admin API requires a client certificate signed by the client CA.
    var verifiesClients = false

    /// Reads the files; errors name the file and what is wrong with it. With `clientCAFile`, a
    /// client certificate is checked against it when presented (a bad one fails the handshake)
    /// and required on `/admin/api` — callers of the public API need none.
    public init(certificateFile: String, keyFile: String, clientCAFile: String? = nil) throws {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificateFile)
        } catch {
            throw NodeTLSError(message: "--tls-cert \(certificateFile): not a readable PEM certificate (\(error))")
        }
        guard !chain.isEmpty else { throw NodeTLSError(message: "--tls-cert \(certificateFile): holds no certificate") }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: keyFile, format: .pem)
        } catch {
            throw NodeTLSError(message: "--tls-key \(keyFile): not a readable PEM private key")
        }
        configuration = .makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        if let clientCAFile {
            let authorities: [NIOSSLCertificate]
            do {
                authorities = try NIOSSLCertificate.fromPEMFile(clientCAFile)
            } catch {
                throw NodeTLSError(message: "--tls-client-ca \(clientCAFile): not a readable PEM certificate (\(error))")
            }
            guard !authorities.isEmpty else { throw NodeTLSError(message: "--tls-client-ca \(clientCAFile): holds no certificate") }
            configuration.trustRoots = .certificates(authorities)
            configuration.certificateVerification = .optionalVerification
            verifiesClients = true
        }
    }
}

/// A TLS file the node cannot use.
public struct NodeTLSError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// The request context of the node: the basic one plus the connection, whose TLS client
/// certificate the admin API may require.
struct NodeRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

struct NodeResponder: HTTPResponder {
    typealias Context = NodeRequestContext
    let runtime: NodeRuntime
    let admin: AdminAPI
    let metrics: NodeMetrics
    let queryLog: QueryLog
    let adminNeedsClientCertificate: Bool
    /// The managed platform whose serving contract the node also answers.
    let platform: PlatformServing?
    let publicAPI = PublicAPI()
    let pools = PoolRegistry()

    func respond(to request: Request, context: Context) async throws -> Response {
        let path = request.uri.path
        let platformRoute = platform?.route(method: request.method.rawValue, path: path)
        // A public query first (the hot path, read without splitting the path); a platform's
        // own path wins over it, and `isAlive` and `metrics` over the platform's.
        if platformRoute == nil, let (service, endpoint, verb) = Self.publicQuery(path) {
            guard let bytes = await Self.body(of: request) else { return tooLarge }
            let (answer, requestID) = await query(request, service: service, endpoint: endpoint, verb: verb, body: bytes)
            return json(answer.status, bytes: answer.bytes, requestID: requestID)
        }
        let segments = path.split(separator: "/").map(String.init)
        if segments == ["isAlive"] {
            let draining = FileManager.default.fileExists(atPath: runtime.dataDirectory.appendingPathComponent("apinode-not-alive.txt").path)
            return json(draining ? 503 : 200, ["alive": .bool(!draining)])
        }
        if segments == ["metrics"] {
            var fields = HTTPFields()
            fields.append(HTTPField(name: .contentType, value: "text/plain; version=0.0.4"))
            return Response(status: .ok, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.exposition(queryLog: queryLog, table: runtime.table))))
        }
        if let platform, let platformRoute {
            return await platformResponse(request, platform: platform, route: platformRoute)
        }
        if segments.count >= 2, segments[0...1] == ["admin", "api"] {
            // The handshake verified any certificate presented; here one must have been.
            if adminNeedsClientCertificate, (try? await context.channel.nioSSL_peerCertificate().get()) == nil {
                return json(401, QueryError(status: 401, errorType: "Unauthorized", message: "the admin API requires a client certificate").body)
            }
            return try await adminResponse(request, path: Array(segments.dropFirst(2)))
        }
        return json(404, QueryError(status: 404, errorType: "NotFound", message: "no such path \(path)").body)
    }

    /// The service, endpoint and verb of a `/public/api/v1/{service}/{endpoint}/{verb}` path
    /// (empty segments skipped, as for every other path), read in one scan without an array.
    static func publicQuery(_ path: String) -> (service: String, endpoint: String, verb: String)? {
        var path = path
        return path.withUTF8 { bytes in
            var names = (service: "", endpoint: "", verb: "")
            var count = 0
            func take(_ segment: Range<Int>) -> Bool {
                defer { count += 1 }
                let text = UnsafeBufferPointer(rebasing: bytes[segment])
                switch count {
                case 0: return text.elementsEqual("public".utf8)
                case 1: return text.elementsEqual("api".utf8)
                case 2: return text.elementsEqual("v1".utf8)
                case 3: names.service = String(decoding: text, as: UTF8.self)
                case 4: names.endpoint = String(decoding: text, as: UTF8.self)
                case 5: names.verb = String(decoding: text, as: UTF8.self)
                default: return false
                }
                return true
            }
            var start: Int?
            for index in 0..<bytes.count {
                if bytes[index] == UInt8(ascii: "/") {
                    if let segmentStart = start {
                        guard take(segmentStart..<index) else { return nil }
                        start = nil
                    }
                } else if start == nil {
                    start = index
                }
            }
            if let segmentStart = start, !take(segmentStart..<bytes.count) { return nil }
            return count == 6 ? names : nil
        }
    }

    private func adminResponse(_ request: Request, path: [String]) async throws -> Response {
        var adminRequest = AdminAPI.Request(
            method: request.method.rawValue, path: path, query: Self.query(request.uri.query ?? ""),
            authorization: request.headers[.authorization], declaredSHA256: request.headers[HTTPField.Name("X-Content-SHA256")!])
        let isUpload = request.method == .put && path.last == "archive"
        var uploaded: URL?
        defer { if let uploaded { try? FileManager.default.removeItem(at: uploaded) } }
        if isUpload {
            // Only key holders may upload; check before streaming anything to disk.
            guard admin.keys.authorizes(adminRequest.authorization) else {
                return json(401, QueryError(status: 401, errorType: "Unauthorized", message: "a valid admin key is required").body)
            }
            let file = runtime.dataDirectory.appendingPathComponent("run/upload-\(UUID().uuidString).zip")
            uploaded = file
            do {
                adminRequest.upload = (file, try await Self.stream(request.body, to: file))
            } catch let error as QueryError {
                return json(error.status, error.body)
            }
        } else {
            do {
                adminRequest.body = Array(try await request.body.collect(upTo: 1024 * 1024).readableBytesView)
            } catch {
                return json(413, QueryError(status: 413, errorType: "PayloadTooLarge", message: "the body is larger than 1 MiB").body)
            }
        }
        let answer = await admin.handle(adminRequest)
        metrics.recordAdmin(method: request.method.rawValue, status: answer.status)
        return json(answer.status, answer.body)
    }

    /// Writes a request body to `file` while hashing it; refuses more than the archive limit.
    static func stream(_ body: RequestBody, to file: URL) async throws -> String {
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: file.path, contents: nil) else { throw QueryError(status: 500, errorType: "InternalError", message: "cannot stage the upload") }
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }
        var hasher = SHA256()
        var total = 0
        for try await chunk in body {
            total += chunk.readableBytes
            guard total <= NodeServer.maximumArchiveBytes else {
                throw QueryError(status: 413, errorType: "PayloadTooLarge", message: "the archive is larger than \(NodeServer.maximumArchiveBytes) bytes")
            }
            let bytes = Data(chunk.readableBytesView)
            hasher.update(data: bytes)
            try handle.write(contentsOf: bytes)
        }
        try handle.synchronize()
        return hasher.finalize().hexString
    }

    static func query(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0) }
            if let key = parts.first { result[key] = parts.count > 1 ? parts[1] : "" }
        }
        return result
    }

    private static let answerHeaders = HTTPFields(PublicAPI.headers.map { HTTPField(name: HTTPField.Name($0.0)!, value: $0.1) })

    /// The query's id: the caller's, or the node's own; it is the `requestId` of the query event.
    static let requestIDHeader = HTTPField.Name("X-Request-ID")!

    /// A generation the query must reach, for every verb (`dispatch.forcedGeneration` in the body
    /// does the same for prediction and lookup verbs).
    static let forcedGenerationHeader = HTTPField.Name("X-Forced-Generation")!

    func json(_ status: Int, _ body: JSONValue, requestID: String? = nil) -> Response {
        json(status, bytes: body.serialized(sortingKeys: false), requestID: requestID)
    }

    /// A JSON answer already written. Its fields go into one list reserved with room for the
    /// request id and the length `Response` adds (appending to the shared constant fields copied
    /// them, and the response then grew the copy for the length).
    func json(_ status: Int, bytes: [UInt8], requestID: String? = nil) -> Response {
        var headers = HTTPFields()
        headers.reserveCapacity(Self.answerHeaders.count + 2)
        headers.append(contentsOf: Self.answerHeaders)
        if let requestID { headers.append(HTTPField(name: Self.requestIDHeader, value: requestID)) }
        return Response(status: HTTPResponse.Status(code: status), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
