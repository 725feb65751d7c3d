import DeployerModel
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// A request as a fake platform sees it.
public struct FakeRequest: Sendable {
    public let method: String
    /// The path as sent, percent-encoded, without the query.
    public let path: String
    public let query: [String: String]
    public let headers: [String: String]
    public let body: [UInt8]

    public func header(_ name: String) -> String? { headers[name.lowercased()] }
    public var json: JSONValue? { try? JSONValue.parse(body) }

    /// An `application/x-www-form-urlencoded` body's fields.
    public var form: [String: String] {
        var fields: [String: String] = [:]
        for pair in String(decoding: body, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
            if parts.count == 2 { fields[parts[0]] = parts[1] }
        }
        return fields
    }
}

extension FakeRequest {
    /// The fake's view of a Hummingbird request whose body was read: a repeated header is one
    /// comma-separated value (RFC 9110 §5.3), HTTP/1.1's Host comes from the authority.
    init(_ request: Request, body: [UInt8]) {
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = headers[field.name.canonicalName].map { $0 + "," + field.value } ?? field.value }
        if let authority = request.head.authority { headers["host"] = authority }
        var query: [String: String] = [:]
        for (name, value) in request.uri.queryParameters { query[String(name)] = String(value) }
        self.init(
            method: request.method.rawValue, path: String(request.uri.string.split(separator: "?", maxSplits: 1).first ?? ""), query: query,
            headers: headers, body: body)
    }
}

/// Picks among weighted choices in a fixed rotation (the `count`th call of a hundred), so a
/// fake's traffic split is deterministic and gives every choice its share.
enum WeightedRotation {
    static func pick<T>(_ choices: [(T, Double)], count: Int) -> T? {
        let total = choices.reduce(0) { $0 + $1.1 }
        guard total > 0 else { return nil }
        var point = Double(count % 100) / 100 * total
        for (choice, weight) in choices {
            if point < weight { return choice }
            point -= weight
        }
        return choices.last?.0
    }
}

/// A fake's answer.
public struct FakeResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int, headers: [String: String] = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The answer as a Hummingbird response.
    var response: Response {
        var fields = HTTPFields()
        for (name, value) in headers { if let field = HTTPField.Name(name) { fields[field] = value } }
        return Response(status: .init(code: status), headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    public static func json(_ status: Int, _ value: JSONValue, headers: [String: String] = [:]) -> FakeResponse {
        var all = headers
        all["Content-Type"] = all["Content-Type"] ?? "application/json"
        return FakeResponse(status: status, headers: all, body: value.serialized())
    }
}

/// Serves a fake platform's handler (or any responder) on a free loopback port for the
/// duration of `body`, which gets its URL.
public enum FakeHTTPServer {
    public static func with(
        _ handler: @escaping @Sendable (FakeRequest) async -> FakeResponse, _ body: (String) async throws -> Void
    ) async throws {
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            let bytes = Array(try await request.body.collect(upTo: 256 * 1024 * 1024).readableBytesView)
            return await handler(FakeRequest(request, body: bytes)).response
        }
        try await with(responder: responder, body)
    }

    public static func with(responder: some HTTPResponder<BasicRequestContext>, _ body: (String) async throws -> Void) async throws {
        let (addresses, announce) = AsyncStream<String>.makeStream()
        let app = Application(
            responder: responder, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in announce.yield("http://127.0.0.1:\(channel.localAddress?.port ?? 0)") },
            logger: Logger(label: "fake-platform"))
        let group = ServiceGroup(services: [app], logger: Logger(label: "fake-platform"))
        let running = Task { try await group.run() }
        var iterator = addresses.makeAsyncIterator()
        guard let url = await iterator.next() else { throw CloudPython.Failure("the fake server did not start") }
        var failure: (any Error)?
        do {
            try await body(url)
        } catch {
            failure = error
        }
        await group.triggerGracefulShutdown()
        try await running.value
        if let failure { throw failure }
    }
}
