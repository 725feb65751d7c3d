import AsyncHTTPClient
import CloudHTTP
import Crypto
import DeployerModel
import Foundation

/// Admits or refuses the callers of one service by its `CallerAuth`. The node's admin keys
/// are accepted too (they have every right on the node; the deployer's test queries use them).
/// Refusals say nothing of what was wrong.
public struct CallerGate: Sendable {
    enum Decision: Equatable {
        /// With the id of the API key or the JWT subject, for the query event.
        case allowed(caller: String?)
        case unauthorized
        case forbidden
    }

    private enum Check: Sendable {
        case apiKeys([String: CallerAuth.APIKey])
        case jwt(JWTVerifier, JWTKeys)
    }

    private enum JWTKeys: Sendable {
        case inline(JSONWebKeySet)
        case fetched(JWKSource)
    }

    private let check: Check?

    /// The gate of `auth`; nil for a public service (no check at all on its queries).
    init?(_ auth: CallerAuth?, http: HTTPClient) {
        guard let auth, auth.mode != .public else { return nil }
        switch auth.mode {
        case .apiKeys:
            check = .apiKeys(Dictionary((auth.apiKeys ?? []).map { ($0.sha256, $0) }, uniquingKeysWith: { first, _ in first }))
        default:
            // Validation requires the jwt block; without it nothing but the admin keys opens.
            guard let jwt = auth.jwt else {
                check = .apiKeys([:])
                return
            }
            let verifier = JWTVerifier(issuer: jwt.issuer, audience: jwt.audience, requiredScope: jwt.scope)
            if let url = jwt.jwksURL {
                check = .jwt(verifier, .fetched(JWKSource(.url(url), http: http)))
            } else {
                let keys = (try? JSONWebKeySet(json: (jwt.jwks ?? .null).serialized())) ?? JSONWebKeySet.empty
                check = .jwt(verifier, .inline(keys))
            }
        }
    }

    /// The decision for a query to `endpoint` with this `Authorization` header.
    func admit(_ header: String?, endpoint: String, adminKeys: AdminKeyStore) async -> Decision {
        guard let check else { return .allowed(caller: nil) }
        if let credential = AdminKeyStore.key(from: header), !credential.isEmpty {
            switch check {
            case .apiKeys(let keys):
                if let key = keys[SHA256.hash(data: Array(credential.utf8)).hexString] {
                    return key.endpoints.map { $0.contains(endpoint) } ?? true ? .allowed(caller: key.id) : .forbidden
                }
            case .jwt(let verifier, let source):
                if let claims = try? await Self.verify(credential, verifier, source) {
                    return .allowed(caller: claims["sub"]?.stringValue)
                }
            }
        }
        return adminKeys.authorizes(header) ? .allowed(caller: "admin-key") : .unauthorized
    }

    private static func verify(_ token: String, _ verifier: JWTVerifier, _ source: JWTKeys) async throws -> JSONValue {
        switch source {
        case .inline(let keys): return try verifier.verify(token, keys: keys, now: Date())
        case .fetched(let jwks): return try verifier.verify(token, keys: try await jwks.keys(for: JWTVerifier.keyID(of: token)), now: Date())
        }
    }
}
