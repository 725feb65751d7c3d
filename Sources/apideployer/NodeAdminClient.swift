import APINode
import AsyncHTTPClient
import DeployerModel
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// One `apinode-admin` operation, as an admin API call or a query.
enum NodeAdminRequest {
    case admin(_ method: String, _ path: [String], query: [String: String] = [:], body: [UInt8] = [])
    case predict(service: String, endpoint: String, body: [UInt8])
}

/// Runs `apinode-admin` operations: through a running node's HTTP API (with an admin key made
/// for this call and deleted after it), or in-process on the data directory when no node runs.
/// Both paths execute the same admin requests, so they give the same results.
struct NodeAdminClient {
    let dataDirectory: URL
    let keys: AdminKeyStore

    func perform(_ request: NodeAdminRequest) async throws -> (Int, JSONValue) {
        if let live = LiveNode.running(in: dataDirectory) {
            return try await overHTTP(request, node: live)
        }
        let runtime = try NodeRuntime(dataDirectory: dataDirectory)
        switch request {
        case .admin(let method, let path, let query, let body):
            let temporary = try keys.create(label: "apinode-admin", description: nil, createdBy: nil, expiry: Date().addingTimeInterval(300))
            defer { _ = try? keys.delete(keyOrID: temporary.entry.id) }
            let answer = await AdminAPI(runtime: runtime, keys: keys).handle(
                AdminAPI.Request(method: method, path: path, query: query, authorization: "Bearer \(temporary.key)", body: body))
            return (answer.status, answer.body)
        case .predict(let service, let endpoint, let body):
            var generator = SystemRandomNumberGenerator()
            let answer = await PublicAPI().handle(runtime.table, service: service, endpoint: endpoint, verb: "predict", body: body, query: [:], using: &generator)
            await runtime.stopWorkers()
            return (answer.status, answer.body)
        }
    }

    private func overHTTP(_ request: NodeAdminRequest, node: LiveNode) async throws -> (Int, JSONValue) {
        let temporary = try keys.create(label: "apinode-admin", description: nil, createdBy: nil, expiry: Date().addingTimeInterval(300))
        defer { _ = try? keys.delete(keyOrID: temporary.entry.id) }
        var configuration = HTTPClient.Configuration()
        if let certificateFile = node.certificateFile {
            // The node is local and its exact certificate is pinned, so its host name is not checked.
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .file(certificateFile)
            tls.certificateVerification = .noHostnameVerification
            // A node whose admin API requires client certificates gets the one these name.
            let environment = ProcessInfo.processInfo.environment
            if let certificate = environment["APINODE_CLIENT_CERT"], let key = environment["APINODE_CLIENT_KEY"] {
                tls.certificateChain = try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
            }
            configuration.tlsConfiguration = tls
        }
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let result = try await send(request, to: node, key: temporary.key, client: client)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    private func send(_ request: NodeAdminRequest, to node: LiveNode, key: String, client: HTTPClient) async throws -> (Int, JSONValue) {
        var httpRequest: HTTPClientRequest
        switch request {
        case .admin(let method, let path, let query, let body):
            var components = URLComponents()
            components.queryItems = query.isEmpty ? nil : query.map { URLQueryItem(name: $0.key, value: $0.value) }
            httpRequest = HTTPClientRequest(url: node.url + "/admin/api/" + path.joined(separator: "/") + (components.percentEncodedQuery.map { "?" + $0 } ?? ""))
            httpRequest.method = HTTPMethod(rawValue: method)
            httpRequest.headers.add(name: "Authorization", value: "Bearer \(key)")
            if !body.isEmpty { httpRequest.body = .bytes(ByteBuffer(bytes: body)) }
        case .predict(let service, let endpoint, let body):
            httpRequest = HTTPClientRequest(url: node.url + "/public/api/v1/\(service)/\(endpoint)/predict")
            httpRequest.method = .POST
            httpRequest.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await client.execute(httpRequest, timeout: .seconds(60))
        let bytes = try await response.body.collect(upTo: 16 * 1024 * 1024)
        return (Int(response.status.code), (try? JSONValue.parse(Array(bytes.readableBytesView))) ?? [:])
    }
}
