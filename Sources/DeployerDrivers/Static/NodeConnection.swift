import AsyncHTTPClient
import DeployerCore
import DeployerModel
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// Calls one API node: its admin API with an admin key, its public API, and `/isAlive/`.
/// Connection failures, timeouts and 5xx answers become retryable `DriverError`s; 4xx
/// answers other than the ones callers handle become permanent ones.
struct NodeConnection: Sendable {
    let name: String
    let baseURL: String
    let adminKey: String
    let http: HTTPClient
    let timeout: TimeAmount
    /// The node's own TLS settings (CA, client certificate); nil: the client's defaults.
    let tls: TLSConfiguration?

    /// One answer: status and parsed JSON body (empty object when not JSON).
    struct Answer {
        let status: Int
        let body: JSONValue
    }

    func admin(_ method: HTTPMethod, _ path: String, json: JSONValue? = nil) async throws -> Answer {
        var request = HTTPClientRequest(url: baseURL + "/admin/api/" + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(adminKey)")
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: json.serialized()))
        }
        return try await send(request, timeout: timeout)
    }

    /// Streams an archive to `PUT services/{id}/generations/{version}/archive`.
    func upload(service: String, version: String, archive: URL, sha256: String) async throws -> Answer {
        var request = HTTPClientRequest(url: baseURL + "/admin/api/services/\(service)/generations/\(version)/archive")
        request.method = .PUT
        request.headers.add(name: "Authorization", value: "Bearer \(adminKey)")
        request.headers.add(name: "X-Content-SHA256", value: sha256)
        request.headers.add(name: "Content-Type", value: "application/zip")
        request.body = .bytes(ByteBuffer(bytes: try Data(contentsOf: archive, options: .mappedIfSafe)))
        return try await send(request, timeout: max(timeout, .minutes(5)))
    }

    /// A public API query; a forced generation goes in the node's `X-Forced-Generation` header
    /// (the body of `run` and `query` holds only the caller's arguments).
    func publicQuery(service: String, _ query: PublicQuery) async throws -> Answer {
        var request = HTTPClientRequest(url: baseURL + "/public/api/v1/\(service)/\(query.endpoint)/\(query.verb)")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let generation = query.forcedGeneration { request.headers.add(name: "X-Forced-Generation", value: generation) }
        // The admin key opens every service, whatever its caller authentication.
        request.headers.add(name: "Authorization", value: "Bearer \(adminKey)")
        request.body = .bytes(ByteBuffer(bytes: query.body.serialized()))
        return try await send(request, timeout: timeout)
    }

    func isAlive() async throws -> Answer {
        try await send(HTTPClientRequest(url: baseURL + "/isAlive/"), timeout: timeout)
    }

    /// Attempts per call: a reset or a 5xx is retried at once, a few times, before the call
    /// fails (every admin call the driver makes may safely be repeated).
    static let attempts = 3

    private func send(_ request: HTTPClientRequest, timeout: TimeAmount) async throws -> Answer {
        for _ in 1..<Self.attempts {
            if case .success(let answer) = try await sendOnce(request, timeout: timeout) { return answer }
        }
        return try await sendOnce(request, timeout: timeout).get()
    }

    /// One attempt: a failure that another attempt may cure (no answer, 5xx) comes back as a
    /// `.failure`; a refused key throws at once.
    private func sendOnce(_ request: HTTPClientRequest, timeout: TimeAmount) async throws -> Result<Answer, DriverError> {
        var request = request
        if let tls { request.tlsConfiguration = tls }
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await http.execute(request, timeout: timeout)
            bytes = try await response.body.collect(upTo: 8 * 1024 * 1024)
        } catch {
            return .failure(DriverError("\(name) did not answer: \(Self.describe(error))"))
        }
        let status = Int(response.status.code)
        let body = (try? JSONValue.parse(Array(bytes.readableBytesView))) ?? [:]
        if status >= 500 {
            return .failure(DriverError("\(name) answered HTTP \(status): \(body["message"]?.stringValue ?? "")"))
        }
        if status == 401 || status == 403 {
            throw DriverError("\(name) refused the admin key (HTTP \(status))")
        }
        return .success(Answer(status: status, body: body))
    }

    /// A short description of a transport error (no URLs with credentials; keys are in headers only).
    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout: "timed out"
        case let error as HTTPClientError where error == .remoteConnectionClosed: "the connection was closed"
        default: "\(error)"
        }
    }
}
