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

/// A REST client for a Kubernetes-shaped API (our embedded server or a real cluster): the
/// server's CA, a client certificate, and a bearer token from `KubeCredentials`.
public final class KubeClient: Sendable {
    public let baseURL: String
    public let namespace: String
    let credentials: KubeCredentials
    private let http: HTTPClient

    /// A client for the (current or named) context of a kubeconfig.
    /// - Parameter maximumConnections: HTTP/1 connections kept per host (watches hold one each).
    public convenience init(kubeconfig: Kubeconfig, context: String? = nil, namespace: String? = nil, maximumConnections: Int = 16) throws {
        let resolved = try kubeconfig.resolve(context: context)
        let cluster = resolved.cluster
        let user = resolved.user
        var tls = TLSConfiguration.makeClientConfiguration()
        if cluster.insecureSkipTLSVerify == true {
            tls.certificateVerification = .none
        } else if let data = cluster.certificateAuthorityData {
            guard let pem = Base64.decode(data) else { throw KubeconfigError("certificate-authority-data is not base64") }
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(pem))
        } else if let file = cluster.certificateAuthority {
            tls.trustRoots = .file(file)
        }
        if let certificate = try Self.pem(data: user.clientCertificateData, file: user.clientCertificate, field: "client-certificate") {
            guard let key = try Self.pem(data: user.clientKeyData, file: user.clientKey, field: "client-key") else {
                throw KubeconfigError("the user has a client certificate but no client-key(-data)")
            }
            tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(certificate).map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: key, format: .pem))
        }
        let source: KubeCredentials.Source
        if let exec = user.exec {
            var clusterInfo: JSONValue = ["server": .string(cluster.server)]
            if let data = cluster.certificateAuthorityData { clusterInfo["certificate-authority-data"] = .string(data) }
            source = .exec(exec, cluster: clusterInfo)
        } else if let token = user.token {
            source = .token(token)
        } else if let file = user.tokenFile {
            source = .tokenFile(file)
        } else {
            source = .none
        }
        self.init(
            server: cluster.server, namespace: namespace ?? resolved.namespace, tls: tls, credentials: KubeCredentials(source),
            maximumConnections: maximumConnections)
    }

    /// A client from inside a pod (client-go's `InClusterConfig`): the server from
    /// `KUBERNETES_SERVICE_HOST`/`_PORT`, the service account's CA and token (read again as it
    /// rotates), the namespace from `POD_NAMESPACE` or the service account.
    public static func inCluster(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        serviceAccount: String = "/var/run/secrets/kubernetes.io/serviceaccount", maximumConnections: Int = 16
    ) throws -> KubeClient {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], let port = environment["KUBERNETES_SERVICE_PORT"], !host.isEmpty, !port.isEmpty
        else { throw KubeconfigError("not in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set") }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(serviceAccount + "/ca.crt")
        let namespace = environment["POD_NAMESPACE"]
            ?? (try? String(contentsOfFile: serviceAccount + "/namespace", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        return KubeClient(
            server: "https://\(host.contains(":") ? "[\(host)]" : host):\(port)", namespace: namespace ?? "default", tls: tls,
            credentials: KubeCredentials(.tokenFile(serviceAccount + "/token")), maximumConnections: maximumConnections)
    }

    init(server: String, namespace: String, tls: TLSConfiguration, credentials: KubeCredentials, maximumConnections: Int) {
        baseURL = server.hasSuffix("/") ? String(server.dropLast()) : server
        self.namespace = namespace
        self.credentials = credentials
        var tls = tls
        // A watch closed by us (the answer is known) would otherwise wait NIOSSL's default 5 s
        // for the server's close_notify before the client can shut down.
        tls.shutdownTimeout = .milliseconds(200)
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.timeout = .init(connect: .seconds(10))
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = maximumConnections
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// PEM bytes from inline base64 data or a file.
    private static func pem(data: String?, file: String?, field: String) throws -> [UInt8]? {
        if let data {
            guard let bytes = Base64.decode(data) else { throw KubeconfigError("\(field)-data is not base64") }
            return bytes
        }
        guard let file else { return nil }
        guard let bytes = FileManager.default.contents(atPath: file) else { throw KubeconfigError("cannot read \(field) \(file)") }
        return Array(bytes)
    }

    /// Sends one request (with extra `headers`) and reads the whole answer; after a 401, asks
    /// the credentials again once when they may have changed (an expired plugin token, a
    /// rotated token file).
    public func send(
        _ method: HTTPMethod, _ path: String, query: [String: String] = [:], body: [UInt8]? = nil,
        contentType: String = "application/json", accept: String = "application/json", headers: [(String, String)] = [],
        timeout: Duration = .seconds(60)
    ) async throws -> KubeResponse {
        var response = try await sendOnce(method, path, query: query, body: body, contentType: contentType, accept: accept, headers: headers, timeout: timeout)
        if response.status == 401, await credentials.invalidate() {
            response = try await sendOnce(method, path, query: query, body: body, contentType: contentType, accept: accept, headers: headers, timeout: timeout)
        }
        return response
    }

    private func sendOnce(
        _ method: HTTPMethod, _ path: String, query: [String: String], body: [UInt8]?, contentType: String, accept: String,
        headers: [(String, String)], timeout: Duration
    ) async throws -> KubeResponse {
        var request = makeRequest(method, path, query: query, body: body, contentType: contentType, accept: accept, token: try await credentials.bearer())
        for (name, value) in headers { request.headers.add(name: name, value: value) }
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
        let parameters = watchQuery
        let http = self.http
        let credentials = self.credentials
        let request = { @Sendable (token: String?) in
            self.makeRequest(.GET, path, query: parameters, body: nil, contentType: "application/json", accept: accept, token: token)
        }
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    var response = try await http.execute(request(try await credentials.bearer()), timeout: .init(timeout))
                    if response.status == .unauthorized, await credentials.invalidate() {
                        response = try await http.execute(request(try await credentials.bearer()), timeout: .init(timeout))
                    }
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

    /// A client dropped without `shutdown()` (a driver's cached cluster clients) closes its
    /// connections in the background; after `shutdown()` this does nothing.
    deinit {
        http.shutdown { _ in }
    }

    private func makeRequest(
        _ method: HTTPMethod, _ path: String, query: [String: String], body: [UInt8]?, contentType: String, accept: String, token: String?
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
