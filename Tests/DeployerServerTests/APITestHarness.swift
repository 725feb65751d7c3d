import DeployerCore
import DeployerModel
import DeployerServer
import DeployerTesting
import Foundation

/// A `KubeAPI` over an in-memory store with one valid token, driven without sockets.
struct APITestHarness {
    static let token = "test-token"
    let api: KubeAPI
    let store: ObjectStore
    let audit = RecordingAuditTrail()

    init() async throws {
        store = try await ObjectStore()
        let entry = TokenAuthenticator.Entry(user: "admin", groups: ["system:masters"], sha256: TokenAuthenticator.hash(Self.token))
        api = KubeAPI(store: store, authenticator: TokenAuthenticator(entries: [entry]), audit: audit)
    }

    static let base = "/apis/apideployer.dev/v1alpha1/namespaces/default/servicedeployments"

    func send(
        _ method: String, _ path: String, query: [String: String] = [:], body: JSONValue? = nil,
        contentType: String = "application/json", accept: String = "application/json", token: String? = Self.token
    ) async -> APIResponse {
        var headers = ["Content-Type": contentType, "Accept": accept]
        if let token { headers["Authorization"] = "Bearer \(token)" }
        return await api.handle(APIRequest(method: method, path: path, query: query, headers: headers, body: body?.serialized() ?? []))
    }

    func json(_ response: APIResponse) throws -> JSONValue { try JSONValue.parse(response.bodyBytes) }
}
