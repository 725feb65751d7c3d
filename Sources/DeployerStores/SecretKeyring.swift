import Crypto
import DeployerModel
import Foundation

/// The AES-256-GCM keys that encrypt Secret objects at rest, in one JSON file (mode 0600)
/// created with a first key when missing. A sealed value names its key, so a rotation adds a
/// key, re-encrypts, then retires the old one — and a crash at any step leaves everything
/// readable.
public final class SecretKeyring: @unchecked Sendable {
    struct Contents: Codable {
        var current: String
        /// Key id → base64 key.
        var keys: [String: String]
    }

    static let prefix = "aesgcm:"
    private let path: String
    private let lock = NSLock()
    private var contents: Contents

    /// Opens the keyring at `path`, creating it with one new key when absent.
    public init(path: String) throws {
        self.path = path
        if let data = FileManager.default.contents(atPath: path) {
            do {
                contents = try JSONDecoder().decode(Contents.self, from: data)
            } catch {
                throw SecretKeyringError("\(path) is not a valid key file: \(error)")
            }
            guard contents.keys[contents.current] != nil else { throw SecretKeyringError("\(path): the current key is missing") }
        } else {
            let id = Self.newKeyID()
            contents = Contents(current: id, keys: [id: Self.newKey()])
            try write(contents)
        }
    }

    /// The id of the key new values are sealed with.
    public var currentKeyID: String { lock.withLock { contents.current } }

    /// Every key id held.
    public var keyIDs: [String] { lock.withLock { contents.keys.keys.sorted() } }

    /// `plaintext` encrypted with the current key, bound to `context` (the object's identity),
    /// as `aesgcm:<key id>:<base64 nonce+ciphertext+tag>`.
    public func seal(_ plaintext: [UInt8], context: String) throws -> String {
        let (id, key) = try lock.withLock { (contents.current, try Self.key(contents, contents.current)) }
        let box = try AES.GCM.seal(plaintext, using: key, authenticating: Array(context.utf8))
        guard let combined = box.combined else { throw SecretKeyringError("AES-GCM gave no combined form") }
        return Self.prefix + id + ":" + Base64.encode(combined)
    }

    /// Whether `text` is a sealed value (anything else is stored plaintext from before encryption).
    public static func isSealed(_ text: String) -> Bool { text.hasPrefix(prefix) }

    /// The plaintext of a sealed value.
    public func open(_ text: String, context: String) throws -> [UInt8] {
        let parts = text.dropFirst(Self.prefix.count).split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, let combined = Base64.decode(parts[1]) else { throw SecretKeyringError("a sealed secret is malformed") }
        let key = try lock.withLock { try Self.key(contents, parts[0]) }
        do {
            return Array(try AES.GCM.open(AES.GCM.SealedBox(combined: combined), using: key, authenticating: Array(context.utf8)))
        } catch {
            throw SecretKeyringError("a sealed secret does not decrypt with key \(parts[0])")
        }
    }

    /// Adds a key and makes it current (first step of a rotation); returns its id.
    public func addKey() throws -> String {
        try lock.withLock {
            var next = contents
            let id = Self.newKeyID()
            next.keys[id] = Self.newKey()
            next.current = id
            try write(next)
            contents = next
            return id
        }
    }

    /// Drops every key but the current one (last step of a rotation, once nothing uses them).
    public func retireOldKeys() throws {
        try lock.withLock {
            var next = contents
            next.keys = next.keys.filter { $0.key == next.current }
            try write(next)
            contents = next
        }
    }

    private func write(_ contents: Contents) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(contents), to: URL(fileURLWithPath: path), permissions: 0o600)
    }

    private static func key(_ contents: Contents, _ id: String) throws -> SymmetricKey {
        guard let text = contents.keys[id], let bytes = Base64.decode(text), bytes.count == 32 else {
            throw SecretKeyringError("key \(id) is not in the key file")
        }
        return SymmetricKey(data: bytes)
    }

    private static func newKey() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Base64.encode($0) }
    }

    private static func newKeyID() -> String {
        "k" + Array(SymmetricKey(size: .bits128).withUnsafeBytes { Array($0) }.prefix(4)).hexString
    }
}

/// A key file or sealed value that cannot be used; never carries key or secret material.
public struct SecretKeyringError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
