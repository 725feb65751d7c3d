import CloudHTTP
import DeployerModel
import Foundation

/// How callers of one service authenticate (ours; the deployer sets it from the published
/// service's `auth` on each rollout): `PUT /admin/api/services/{id}/auth`. API keys arrive and
/// are kept only as SHA-256 digests; a JWKS arrives inline or as a URL.
public struct CallerAuth: Codable, Sendable, Equatable {
    public enum Mode: String, Codable, Sendable {
        case `public`, apiKeys, jwt
    }

    /// One key: an id for query events (never the key), its digest, and optionally the only
    /// endpoints it opens.
    public struct APIKey: Codable, Sendable, Equatable {
        public var id: String
        public var sha256: String
        public var endpoints: [String]?
    }

    public struct JWT: Codable, Sendable, Equatable {
        public var issuer: String
        public var audience: String?
        public var scope: String?
        public var jwksURL: String?
        /// The JWKS document itself.
        public var jwks: JSONValue?
    }

    public var mode: Mode
    public var apiKeys: [APIKey]?
    public var jwt: JWT?

    /// Checks every field; the error names the first bad one.
    func validate() throws {
        switch mode {
        case .public:
            break
        case .apiKeys:
            guard let keys = apiKeys, !keys.isEmpty else { throw NodeError.invalid("apiKeys: at least one key is required in mode apiKeys") }
            for (index, key) in keys.enumerated() where key.sha256.count != 64 || !key.sha256.allSatisfy(\.isHexDigit) {
                throw NodeError.invalid("apiKeys[\(index)].sha256: 64 hexadecimal digits expected")
            }
        case .jwt:
            guard let jwt else { throw NodeError.invalid("jwt: required in mode jwt") }
            guard (jwt.jwksURL == nil) != (jwt.jwks == nil) else { throw NodeError.invalid("jwt: give exactly one of jwksURL and jwks") }
            if let url = jwt.jwksURL, URL(string: url)?.host == nil || !url.hasPrefix("http") {
                throw NodeError.invalid("jwt.jwksURL \"\(url)\" is not an http(s) URL")
            }
            if let jwks = jwt.jwks {
                do {
                    guard !(try JSONWebKeySet(json: jwks.serialized())).keys.isEmpty else { throw JWTError.invalidKeySet("no RS256 or ES256 key") }
                } catch {
                    throw NodeError.invalid("jwt.jwks: \(error)")
                }
            }
        }
    }
}
