import DeployerModel

/// An HTTP request as the API handler sees it, independent of the server framework.
public struct APIRequest: Sendable {
    public var method: String
    public var path: String
    public var query: [String: String]
    public var headers: [String: String]
    public var body: [UInt8]

    /// Builds a request; header names are matched case-insensitively.
    public init(method: String, path: String, query: [String: String] = [:], headers: [String: String] = [:], body: [UInt8] = []) {
        self.method = method.uppercased()
        self.path = path
        self.query = query
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first })
        self.body = body
    }

    /// A header value by (lowercase) name.
    public func header(_ name: String) -> String? { headers[name.lowercased()] }

    /// Splits a path and query string (`/a/b?x=1&y=2`) into parts, percent-decoding values.
    public static func splitTarget(_ target: String) -> (path: String, query: [String: String]) {
        guard let mark = target.firstIndex(of: "?") else { return (target, [:]) }
        var query: [String: String] = [:]
        for pair in target[target.index(after: mark)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            let key = decodePercent(String(parts[0]))
            query[key] = parts.count > 1 ? decodePercent(String(parts[1])) : ""
        }
        return (String(target[..<mark]), query)
    }

    private static func decodePercent(_ text: String) -> String {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? text
    }
}

/// The body of a response: bytes, or a stream of chunks (watches).
public enum APIResponseBody: Sendable {
    case bytes([UInt8])
    case stream(AsyncStream<[UInt8]>)
}

/// An HTTP response from the API handler.
public struct APIResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: APIResponseBody

    public init(status: Int, headers: [(String, String)] = [], body: APIResponseBody) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON response.
    public static func json(_ value: JSONValue, status: Int = 200, contentType: String = "application/json") -> APIResponse {
        APIResponse(status: status, headers: [("Content-Type", contentType)], body: .bytes(value.serialized()))
    }

    /// Pre-serialized JSON bytes.
    public static func jsonBytes(_ bytes: [UInt8], status: Int = 200) -> APIResponse {
        APIResponse(status: status, headers: [("Content-Type", "application/json")], body: .bytes(bytes))
    }

    /// A `Status` error response.
    public static func error(_ error: APIError) -> APIResponse {
        var response = json(error.status, status: error.code)
        if let seconds = error.retryAfterSeconds { response.headers.append(("Retry-After", String(seconds))) }
        return response
    }

    /// A plain-text response.
    public static func text(_ text: String, status: Int = 200, contentType: String = "text/plain; charset=utf-8") -> APIResponse {
        APIResponse(status: status, headers: [("Content-Type", contentType)], body: .bytes(Array(text.utf8)))
    }

    /// The header value by name (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    /// The body bytes, for byte bodies.
    public var bodyBytes: [UInt8] {
        if case .bytes(let bytes) = body { return bytes }
        return []
    }
}

import Foundation
