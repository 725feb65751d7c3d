import AsyncHTTPClient
import DeployerModel
import Foundation
import NIOCore
import NIOHTTP1

/// An answer of a bearer-authenticated JSON API: status, headers and the JSON body (`null`
/// when empty or not JSON).
public struct RESTAnswer: Sendable {
    public let status: Int
    public let headers: HTTPHeaders
    public let body: JSONValue

    public func header(_ name: String) -> String? { headers.first(name: name) }
    public var isSuccess: Bool { (200..<300).contains(status) }
}

/// Calls a JSON API with `Authorization: Bearer` tokens from a cache (Azure Resource Manager,
/// Vertex AI, Snowflake's SQL API). A 401 drops the token and tries once more with a fresh one
/// (tokens revoked or expired early); 429 and 5xx are tried again after the answer's
/// `Retry-After` (seconds, at most 60) or a jittered backoff doubling from 200 ms to 5 s, four
/// attempts in all. Other answers are returned for the caller to read.
public struct BearerClient: Sendable {
    let tokens: AccessTokenCache
    let http: HTTPClient
    let headers: [(name: String, value: String)]
    let pause: @Sendable (Duration) async throws -> Void
    static let attempts = 4

    public init(
        tokens: AccessTokenCache, http: HTTPClient, headers: [(name: String, value: String)] = [],
        pause: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.tokens = tokens
        self.http = http
        self.headers = headers
        self.pause = pause
    }

    /// Sends `body` (JSON) to `url`.
    public func send(_ method: HTTPMethod, _ url: String, body: JSONValue? = nil) async throws -> RESTAnswer {
        try await send(method, url, bytes: body?.serialized(), contentType: "application/json")
    }

    /// Sends raw bytes (an upload) of `contentType` to `url`.
    public func send(_ method: HTTPMethod, _ url: String, bytes: [UInt8]?, contentType: String) async throws -> RESTAnswer {
        var refreshed = false
        var attempt = 1
        while true {
            let answer = try await sendOnce(method, url, bytes: bytes, contentType: contentType)
            if answer.status == 401, !refreshed {
                refreshed = true
                await tokens.invalidate()
                continue
            }
            guard answer.status == 429 || answer.status >= 500, attempt < Self.attempts else { return answer }
            let retryAfter = answer.header("Retry-After").flatMap(Int.init).map { Duration.seconds(min(60, max(0, $0))) }
            try await pause(retryAfter ?? AWSClient.backoff(attempt: attempt))
            attempt += 1
        }
    }

    private func sendOnce(_ method: HTTPMethod, _ url: String, bytes: [UInt8]?, contentType: String) async throws -> RESTAnswer {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(try await tokens.token())")
        request.headers.add(name: "Accept", value: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let bytes {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: bytes))
        }
        do {
            let response = try await http.execute(request, timeout: .seconds(60))
            let bytes = Array(try await response.body.collect(upTo: 64 * 1024 * 1024).readableBytesView)
            return RESTAnswer(status: Int(response.status.code), headers: response.headers, body: (try? JSONValue.parse(bytes)) ?? .null)
        } catch {
            throw RESTError("\(method.rawValue) \(Self.redacted(url)) did not answer: \(error)")
        }
    }

    /// The URL without its query (which may carry signatures).
    static func redacted(_ url: String) -> String { String(url.split(separator: "?", maxSplits: 1).first ?? "") }
}

/// A call that got no answer (connection refused, timeout); worth another try later.
public struct RESTError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
