import Crypto
import DeployerModel
import Foundation

/// Admin keys of a node, in `admin-keys.json` (mode 0600): only SHA-256 hashes are stored; a
/// key is shown once, when created. Each check looks whether the file was replaced (every write
/// replaces it) and reads it only then, so keys created by `apinode-admin` on the data
/// directory apply to a running server at once without a read per request.
public struct AdminKeyStore: Sendable {
    public struct Entry: Codable, Sendable, Equatable {
        public var id: String
        public var label: String?
        public var description: String?
        public var createdBy: String?
        public var createdOn: Date
        public var expiry: Date?
        public var sha256: String
    }

    let file: URL
    let now: @Sendable () -> Date
    private let cache = ParsedFileCache<[Entry]>()

    public init(dataDirectory: URL, now: @escaping @Sendable () -> Date = Date.init) {
        file = dataDirectory.appendingPathComponent("admin-keys.json")
        self.now = now
    }

    public func entries() throws -> [Entry] {
        try cache.value(of: file, empty: []) { try JSONDecoder.node.decode([Entry].self, from: $0) }
    }

    /// Creates a key and returns it with its entry; the key itself is not stored.
    public func create(label: String?, description: String?, createdBy: String?, expiry: Date?) throws -> (key: String, entry: Entry) {
        let key = SecretToken.generate()
        let entry = Entry(
            id: UUID().uuidString.lowercased().prefix(8).description, label: label, description: description, createdBy: createdBy,
            createdOn: now(), expiry: expiry, sha256: Self.hash(key))
        try save(try entries() + [entry])
        return (key, entry)
    }

    /// Deletes by key or by id; false when nothing matched.
    public func delete(keyOrID: String) throws -> Bool {
        let current = try entries()
        let remaining = current.filter { $0.id != keyOrID && $0.sha256 != Self.hash(keyOrID) }
        try save(remaining)
        return remaining.count != current.count
    }

    /// Whether an `Authorization` header carries a valid, unexpired admin key (HTTP Basic with
    /// the key as user name, or Bearer).
    public func authorizes(_ header: String?) -> Bool {
        guard let key = Self.key(from: header), let entries = try? entries() else { return false }
        let hash = Self.hash(key)
        return entries.contains { $0.sha256 == hash && ($0.expiry.map { $0 > now() } ?? true) }
    }

    /// The key in a Basic (`key:`) or Bearer header.
    static func key(from header: String?) -> String? {
        guard let header else { return nil }
        if header.hasPrefix("Bearer ") { return String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
        if header.hasPrefix("Basic "), let decoded = Base64.decode(String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)) {
            return String(decoding: decoded, as: UTF8.self).split(separator: ":", omittingEmptySubsequences: false).first.map(String.init)
        }
        return nil
    }

    static func hash(_ key: String) -> String {
        SHA256.hash(data: Array(key.utf8)).hexString
    }

    private func save(_ entries: [Entry]) throws {
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try AtomicFile.write(try JSONEncoder.node.encode(entries), to: file, permissions: 0o600)
    }
}

/// The parsed content of a file, read again only when the file was replaced or changed (its
/// inode, size or modification time differ).
final class ParsedFileCache<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var cached: (stamp: [FileAttributeKey: AnyHashable], value: Value)?

    func value(of file: URL, empty: Value, parse: (Data) throws -> Value) throws -> Value {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: file.path) else { return empty }
        let stamp = [FileAttributeKey.systemFileNumber, .size, .modificationDate].reduce(into: [FileAttributeKey: AnyHashable]()) {
            $0[$1] = attributes[$1] as? AnyHashable
        }
        if let cached = lock.withLock({ cached }), cached.stamp == stamp { return cached.value }
        guard let data = FileManager.default.contents(atPath: file.path) else { return empty }
        let value = try parse(data)
        lock.withLock { cached = (stamp, value) }
        return value
    }
}
