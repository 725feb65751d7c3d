import AsyncHTTPClient
import DeployerModel
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// A response from the API server.
public struct KubeResponse: Sendable {
    public let status: Int
    public let headers: [(String, String)]
    public let body: [UInt8]

    /// The body as JSON.
    public func json() throws -> JSONValue { try JSONValue.parse(body) }

    /// The server's `Status` error, or a generic one for a non-Status body.
    public var error: APIError {
        if let value = try? json(), let error = APIError(status: value) { return error }
        return APIError(code: status, reason: "Unknown", message: "the server answered \(status): \(String(decoding: body.prefix(200), as: UTF8.self))")
    }
}

/// A REST client for a Kubernetes-shaped API (our embedded server or a real cluster), with the
/// server's CA and a bearer token from a kubeconfig.
public final class KubeClient: Sendable {
    public let baseURL: String
    public let namespace: String
    private let token: String?
    private let http: HTTPClient

    /// - Parameter maximumConnections: HTTP/1 connections kept per host (watches hold one each).
    public init(kubeconfig: Kubeconfig, context: String? = nil, namespace: String? = nil, maximumConnections: Int = 16) throws {
        let resolved = try kubeconfig.resolve(context: context)
        baseURL = resolved.cluster.server.hasSuffix("/") ? String(resolved.cluster.server.dropLast()) : resolved.cluster.server
        self.namespace = namespace ?? resolved.namespace
        token = resolved.user.token
        var tls = TLSConfiguration.makeClientConfiguration()
        // A watch closed by us (the answer is known) would otherwise wait NIOSSL's default 5 s
        // for the server's close_notify before the client can shut down.
        tls.shutdownTimeout = .milliseconds(200)
        if resolved.cluster.insecureSkipTLSVerify == true {
            tls.certificateVerification = .none
        } else if let data = resolved.cluster.certificateAuthorityData, let pem = Base64.decode(data) {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(pem))
        } else if let file = resolved.cluster.certificateAuthority {
            tls.trustRoots = .file(file)
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.timeout = .init(connect: .seconds(10))
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = maximumConnections
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Sends one request and reads the whole answer.
    public func send(
        _ method: HTTPMethod, _ path: String, query: [String: String] = [:], body: [UInt8]? = nil,
        contentType: String = "application/json", accept: String = "application/json", timeout: Duration = .seconds(60)
    ) async throws -> KubeResponse {
        let request = makeRequest(method, path, query: query, body: body, contentType: contentType, accept: accept)
        let response = try await http.execute(request, timeout: .init(timeout))
        let bytes = try await response.body.collect(upTo: 256 * 1024 * 1024)
        return KubeResponse(
            status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) }, body: Array(bytes.readableBytesView))
    }

    /// Opens a watch and yields each event as JSON until the server ends the stream.
    public func watch(_ path: String, query: [String: String], accept: String = "application/json", timeout: Duration)
        -> AsyncThrowingStream<JSONValue, any Error>
    {
        var watchQuery = query
        watchQuery["watch"] = "true"
        let request = makeRequest(.GET, path, query: watchQuery, body: nil, contentType: "application/json", accept: accept)
        let http = self.http
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    let response = try await http.execute(request, timeout: .init(timeout))
                    guard response.status == .ok else {
                        let bytes = try await response.body.collect(upTo: 1024 * 1024)
                        let failure = KubeResponse(status: Int(response.status.code), headers: [], body: Array(bytes.readableBytesView))
                        throw failure.error
                    }
                    var pending: [UInt8] = []
                    for try await chunk in response.body {
                        pending.append(contentsOf: chunk.readableBytesView)
                        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                            let line = Array(pending[..<newline])
                            pending.removeSubrange(...newline)
                            if !line.isEmpty { continuation.yield(try JSONValue.parse(line)) }
                        }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Releases connections; call once when done.
    public func shutdown() async throws {
        try await http.shutdown()
    }

    private func makeRequest(
        _ method: HTTPMethod, _ path: String, query: [String: String], body: [UInt8]?, contentType: String, accept: String
    ) -> HTTPClientRequest {
        var components = URLComponents()
        components.queryItems = query.isEmpty ? nil : query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
        let queryText = components.percentEncodedQuery.map { "?" + $0.replacingOccurrences(of: "+", with: "%2B") } ?? ""
        var request = HTTPClientRequest(url: baseURL + path + queryText)
        request.method = method
        request.headers.add(name: "Accept", value: accept)
        request.headers.add(name: "User-Agent", value: "apideployer-cli")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        return request
    }
}

/// Paths of our API.
public enum APIPaths {
    /// The collection of a kind in a namespace.
    public static func collection(_ kind: ResourceKind, namespace: String) -> String {
        "/apis/\(ResourceKind.apiVersion)/namespaces/\(namespace)/\(kind.plural)"
    }

    /// One object.
    public static func object(_ kind: ResourceKind, namespace: String, name: String) -> String {
        collection(kind, namespace: namespace) + "/" + name
    }
}
