import Crypto
import DeployerModel
import Foundation

/// Who made a request.
public struct Identity: Sendable, Hashable {
    public let user: String
    public let groups: [String]
}

/// Bearer-token authentication. Tokens are random, shown once and kept only as SHA-256 hashes;
/// a lookup by hash means the comparison never depends on how much of a guess was right.
public struct TokenAuthenticator: Sendable {
    /// One stored token.
    public struct Entry: Codable, Sendable {
        public var user: String
        public var groups: [String]
        public var sha256: String
        public var expires: Date?

        public init(user: String, groups: [String], sha256: String, expires: Date? = nil) {
            self.user = user
            self.groups = groups
            self.sha256 = sha256
            self.expires = expires
        }
    }

    private let entries: [String: Entry]
    private let now: @Sendable () -> Date

    public init(entries: [Entry], now: @escaping @Sendable () -> Date = Date.init) {
        self.entries = Dictionary(entries.map { ($0.sha256, $0) }, uniquingKeysWith: { first, _ in first })
        self.now = now
    }

    /// The identity behind an `Authorization` header, or 401.
    public func authenticate(_ header: String?) throws -> Identity {
        guard let header, header.hasPrefix("Bearer ") else { throw APIError.unauthorized() }
        let token = String(header.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)
        guard let entry = entries[Self.hash(token)] else { throw APIError.unauthorized() }
        if let expires = entry.expires, expires <= now() { throw APIError.unauthorized() }
        return Identity(user: entry.user, groups: entry.groups)
    }

    /// The stored form of a token.
    public static func hash(_ token: String) -> String {
        SHA256.hash(data: Array(token.utf8)).hexString
    }

    /// A new random token (256 bits, URL-safe).
    public static func generateToken() -> String {
        SecretToken.generate()
    }
}
