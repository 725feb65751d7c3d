import Crypto
import DeployerCore
import DeployerModel
import Foundation

/// Users, their groups and their API tokens, kept in one JSON file (mode 0600) that the
/// server alone writes. Tokens are random, shown once and stored only as SHA-256 hashes; a
/// lookup by hash means no comparison depends on how much of a guess was right.
public final class IdentityStore: @unchecked Sendable {
    /// A person or a machine identity (such as CI).
    public struct User: Codable, Sendable, Equatable {
        public var name: String
        public var groups: [String]
        public var created: Date
    }

    /// One API token of a user. Its groups add to the user's.
    public struct Token: Codable, Sendable, Equatable {
        public var id: String
        public var user: String
        public var groups: [String]
        public var sha256: String
        public var created: Date
        public var expires: Date?
        public var revoked: Date?
        public var description: String?
    }

    struct Contents: Codable {
        var users: [User] = []
        var tokens: [Token] = []
    }

    /// The user of the token printed at first start.
    public static let bootstrapAdmin = "admin"

    private let path: String?
    private let now: @Sendable () -> Date
    private let lock = NSLock()
    private var contents: Contents

    /// Opens the store at `path`, or keeps it only in memory when `path` is nil.
    public init(path: String?, now: @escaping @Sendable () -> Date = Date.init) throws {
        self.path = path
        self.now = now
        if let path, let data = FileManager.default.contents(atPath: path) {
            do {
                contents = try Self.decoder.decode(Contents.self, from: data)
            } catch {
                throw APIError.internalError("\(path) is not a valid identity file: \(error)")
            }
        } else {
            contents = Contents()
        }
    }

    /// Creates the bootstrap admin (group `system:masters`) and its token when the store has
    /// no user yet; returns the token, to be shown once.
    public func bootstrap() throws -> String? {
        guard users.isEmpty else { return nil }
        try createUser(Self.bootstrapAdmin, groups: Array(Caller.defaultAdminGroups))
        return try createToken(user: Self.bootstrapAdmin, groups: [], expires: nil, description: "bootstrap admin").secret
    }

    /// The user and groups behind `token`, or nil when it is unknown, expired or revoked.
    public func authenticate(token: String) -> (user: String, groups: [String])? {
        let hash = SHA256.hash(data: Array(token.utf8)).hexString
        return lock.withLock {
            guard let entry = contents.tokens.first(where: { $0.sha256 == hash }), entry.revoked == nil,
                entry.expires.map({ $0 > now() }) ?? true,
                let user = contents.users.first(where: { $0.name == entry.user })
            else { return nil }
            return (user.name, Array(Set(user.groups + entry.groups)).sorted())
        }
    }

    public var users: [User] { lock.withLock { contents.users } }
    public var tokens: [Token] { lock.withLock { contents.tokens } }

    /// Adds a user.
    public func createUser(_ name: String, groups: [String]) throws {
        try Self.checkName(name, field: "name")
        for group in groups { try Self.checkName(group, field: "groups") }
        try change { contents in
            guard !contents.users.contains(where: { $0.name == name }) else {
                throw APIError(code: 409, reason: "AlreadyExists", message: "user \"\(name)\" already exists")
            }
            contents.users.append(User(name: name, groups: Array(Set(groups)).sorted(), created: now()))
        }
    }

    /// Changes a user's groups: adds `adding`, removes `removing`.
    public func changeGroups(of name: String, adding: [String], removing: [String]) throws {
        for group in adding { try Self.checkName(group, field: "groups") }
        try change { contents in
            guard let index = contents.users.firstIndex(where: { $0.name == name }) else { throw Self.unknownUser(name) }
            let groups = Set(contents.users[index].groups).union(adding).subtracting(removing)
            contents.users[index].groups = groups.sorted()
        }
    }

    /// Removes a user and revokes its tokens.
    public func deleteUser(_ name: String) throws {
        let time = now()
        try change { contents in
            guard contents.users.contains(where: { $0.name == name }) else { throw Self.unknownUser(name) }
            contents.users.removeAll { $0.name == name }
            for index in contents.tokens.indices where contents.tokens[index].user == name && contents.tokens[index].revoked == nil {
                contents.tokens[index].revoked = time
            }
        }
    }

    /// Creates a token for an existing user; the secret is returned once and never stored.
    public func createToken(user: String, groups: [String], expires: Date?, description: String?) throws -> (token: Token, secret: String) {
        for group in groups { try Self.checkName(group, field: "groups") }
        let secret = SecretToken.generate()
        let token = Token(
            id: "tok-" + Array(SHA256.hash(data: Array(secret.utf8)).prefix(6)).hexString, user: user, groups: Array(Set(groups)).sorted(),
            sha256: SHA256.hash(data: Array(secret.utf8)).hexString, created: now(), expires: expires, revoked: nil,
            description: description)
        try change { contents in
            guard contents.users.contains(where: { $0.name == user }) else { throw Self.unknownUser(user) }
            contents.tokens.append(token)
        }
        return (token, secret)
    }

    /// Revokes a token: it is refused from now on and listed as revoked.
    public func revokeToken(_ id: String) throws {
        let time = now()
        try change { contents in
            guard let index = contents.tokens.firstIndex(where: { $0.id == id }) else {
                throw APIError(code: 404, reason: "NotFound", message: "token \"\(id)\" not found")
            }
            if contents.tokens[index].revoked == nil { contents.tokens[index].revoked = time }
        }
    }

    /// Applies `edit` and writes the file; on any error nothing changes.
    private func change(_ edit: (inout Contents) throws -> Void) throws {
        try lock.withLock {
            var edited = contents
            try edit(&edited)
            if let path {
                let data = try Self.encoder.encode(edited)
                try AtomicFile.write(data, to: URL(fileURLWithPath: path), permissions: 0o600)
            }
            contents = edited
        }
    }

    private static func checkName(_ name: String, field: String) throws {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_.:@"))
        guard !name.isEmpty, name.count <= 253, name.unicodeScalars.allSatisfy(allowed.contains) else {
            throw APIError.badRequest("\(field): \"\(name)\" must be 1-253 letters, digits or - _ . : @")
        }
    }

    private static func unknownUser(_ name: String) -> APIError {
        APIError(code: 404, reason: "NotFound", message: "user \"\(name)\" not found")
    }

    /// A user or token as JSON, dates in RFC 3339 as in the file.
    static func json(_ value: some Encodable) throws -> JSONValue {
        try JSONValue.parse(Array(encoder.encode(value)))
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return encoder
    }()

    private static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}
