import Crypto
import DeployerModel

/// How callers of a deployed service authenticate, from its published service's `auth` with the
/// secrets resolved: API keys travel to the targets only as SHA-256 digests; a JWKS by URL, or
/// inline from a secret. The description never shows key material.
public struct CallerAuthSettings: Hashable, Sendable, CustomStringConvertible {
    public struct APIKey: Hashable, Sendable {
        /// `secret/key` of the reference: what query events name instead of the key.
        public var id: String
        public var sha256: String
        public var endpoints: [String]?
    }

    public var mode: String
    public var apiKeys: [APIKey]
    public var jwt: PublishedService.Auth.JWT?
    /// The JWKS document, when `jwt.jwksSecretRef` names it.
    public var jwks: String?

    public static let `public` = CallerAuthSettings(mode: "public", apiKeys: [], jwt: nil, jwks: nil)

    /// The settings of `auth` (public when absent); a missing secret is a `Stall`.
    static func resolve(_ auth: PublishedService.Auth?, namespace: String, store: any ResourceStore) async throws -> CallerAuthSettings {
        guard let auth, auth.mode != "public" else { return .public }
        var keys: [APIKey] = []
        for key in auth.apiKeys ?? [] {
            let value = try await DeploymentContext.secretValue(key.secretRef, namespace: namespace, store: store)
            keys.append(
                APIKey(id: "\(key.secretRef.name)/\(key.secretRef.key)", sha256: SHA256.hash(data: Array(value.utf8)).hexString, endpoints: key.endpoints))
        }
        var jwks: String?
        if let reference = auth.jwt?.jwksSecretRef { jwks = try await DeploymentContext.secretValue(reference, namespace: namespace, store: store) }
        return CallerAuthSettings(mode: auth.mode, apiKeys: keys, jwt: auth.jwt, jwks: jwks)
    }

    public var description: String {
        switch mode {
        case "apiKeys": "callers need one of \(apiKeys.count) API keys"
        case "jwt": "callers need a JWT from \(jwt?.issuer ?? "")"
        default: "public"
        }
    }
}

extension CallerAuthSettings {
    /// `mode:digest`, what `status.callerAuth` records: changes whenever a key, its endpoints,
    /// the JWT settings or the JWKS change; reveals nothing of the keys.
    public var fingerprint: String {
        var lines = [mode]
        lines += apiKeys.map { "\($0.id) \($0.sha256) \(($0.endpoints ?? ["*"]).joined(separator: ","))" }.sorted()
        if let jwt { lines += [jwt.issuer, jwt.audience, jwt.scope ?? "", jwt.jwksURL ?? "", jwks ?? ""] }
        return mode + ":" + String(SHA256.hash(data: Array(lines.joined(separator: "\n").utf8)).hexString.prefix(16))
    }
}
