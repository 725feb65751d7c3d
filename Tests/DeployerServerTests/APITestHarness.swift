import DeployerCore
import DeployerModel
import DeployerServer
import DeployerTesting
import Foundation
import Testing

/// A `KubeAPI` over an in-memory store and in-memory identities (the bootstrap admin's token
/// is `adminToken`), driven without sockets.
struct APITestHarness {
    let api: KubeAPI
    let store: ObjectStore
    let identities: IdentityStore
    let adminToken: String
    let audit = RecordingAuditTrail()

    init(provider: ExternalIdentityProvider? = nil, now: @escaping @Sendable () -> Date = Date.init) async throws {
        store = try await ObjectStore()
        identities = try IdentityStore(path: nil, now: now)
        adminToken = try #require(try identities.bootstrap())
        api = KubeAPI(store: store, authenticator: RequestAuthenticator(identities: identities, provider: provider, now: now), audit: audit)
    }

    static let base = "/apis/apideployer.dev/v1alpha1/namespaces/default/servicedeployments"

    func send(
        _ method: String, _ path: String, query: [String: String] = [:], body: JSONValue? = nil,
        contentType: String = "application/json", accept: String = "application/json", token: String? = "admin"
    ) async -> APIResponse {
        var headers = ["Content-Type": contentType, "Accept": accept]
        if let token { headers["Authorization"] = "Bearer \(token == "admin" ? adminToken : token)" }
        return await api.handle(APIRequest(method: method, path: path, query: query, headers: headers, body: body?.serialized() ?? []))
    }

    func json(_ response: APIResponse) throws -> JSONValue { try JSONValue.parse(response.bodyBytes) }
}
