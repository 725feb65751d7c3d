/// How callers of one service on an API node authenticate — the node's wire format
/// (`PUT /admin/api/services/{id}/auth`), which the deployer sends from the published service's
/// `auth` on every rollout. API keys travel and are kept only as SHA-256 digests; a JWKS goes
/// inline or as a URL.
public struct CallerAuth: Codable, Sendable, Hashable {
    public enum Mode: String, Codable, Sendable {
        case `public`, apiKeys, jwt
    }

    /// One key: an id for query events (never the key), its digest, and optionally the only
    /// endpoints it opens.
    public struct APIKey: Codable, Sendable, Hashable {
        public var id: String
        public var sha256: String
        public var endpoints: [String]?

        public init(id: String, sha256: String, endpoints: [String]?) {
            self.id = id
            self.sha256 = sha256
            self.endpoints = endpoints
        }
    }

    public struct JWT: Codable, Sendable, Hashable {
        public var issuer: String
        public var audience: String?
        public var scope: String?
        public var jwksURL: String?
        /// The JWKS document itself.
        public var jwks: JSONValue?

        public init(issuer: String, audience: String?, scope: String?, jwksURL: String?, jwks: JSONValue?) {
            self.issuer = issuer
            self.audience = audience
            self.scope = scope
            self.jwksURL = jwksURL
            self.jwks = jwks
        }
    }

    public var mode: Mode
    public var apiKeys: [APIKey]?
    public var jwt: JWT?

    public init(mode: Mode, apiKeys: [APIKey]? = nil, jwt: JWT? = nil) {
        self.mode = mode
        self.apiKeys = apiKeys
        self.jwt = jwt
    }

    public static let `public` = CallerAuth(mode: .public)
}
