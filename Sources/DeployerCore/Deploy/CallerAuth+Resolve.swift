import Crypto
import DeployerModel

/// The node's caller authentication from a published service's (or deployment's) `auth`, with
/// the secrets resolved: API keys become digests, a JWKS secret its document.
extension CallerAuth {
    /// The settings of `auth` (public when absent); a missing secret or a JWKS secret that is
    /// not JSON is a `Stall`.
    static func resolve(_ auth: PublishedService.Auth?, namespace: String, store: any ResourceStore) async throws -> CallerAuth {
        guard let auth, let mode = Mode(rawValue: auth.mode), mode != .public else { return .public }
        var keys: [APIKey] = []
        for key in auth.apiKeys ?? [] {
            let value = try await DeploymentContext.secretValue(key.secretRef, namespace: namespace, store: store)
            keys.append(
                APIKey(id: "\(key.secretRef.name)/\(key.secretRef.key)", sha256: SHA256.hash(data: Array(value.utf8)).hexString, endpoints: key.endpoints))
        }
        var jwt: JWT?
        if let settings = auth.jwt {
            var jwks: JSONValue?
            if let reference = settings.jwksSecretRef {
                let text = try await DeploymentContext.secretValue(reference, namespace: namespace, store: store)
                guard let document = try? JSONValue.parse(Array(text.utf8)) else {
                    throw Stall(reason: "InvalidJWKS", message: "secret \"\(reference.name)\" key \"\(reference.key)\" does not hold a JWKS JSON document")
                }
                jwks = document
            }
            jwt = JWT(issuer: settings.issuer, audience: settings.audience, scope: settings.scope, jwksURL: settings.jwksURL, jwks: jwks)
        }
        return CallerAuth(mode: mode, apiKeys: mode == .apiKeys ? keys : nil, jwt: mode == .jwt ? jwt : nil)
    }

    /// `mode:digest`, what `status.callerAuth` records: changes whenever a key, its endpoints,
    /// the JWT settings or the JWKS change; reveals nothing of the keys.
    public var fingerprint: String {
        let wire = (try? JSONValue(encoding: self))?.serialized() ?? []
        return mode.rawValue + ":" + String(SHA256.hash(data: wire).hexString.prefix(16))
    }

    /// What a rollout's history says was set (never key material).
    public var summary: String {
        switch mode {
        case .apiKeys: "callers need one of \(apiKeys?.count ?? 0) API keys"
        case .jwt: "callers need a JWT from \(jwt?.issuer ?? "")"
        case .public: "public"
        }
    }
}
