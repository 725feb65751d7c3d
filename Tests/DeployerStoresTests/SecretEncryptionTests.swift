import DeployerCore
import DeployerModel
import DeployerStores
import DeployerTesting
import Foundation
import Testing

/// Secrets are encrypted at rest in the SQLite store, readable again with the key file, and a
/// key rotation interrupted at any step loses nothing.
@Suite struct SecretEncryptionTests {
    static let value = "hunter2-do-not-store-in-clear"

    static func secret(_ name: String) -> JSONValue {
        [
            "apiVersion": .string(ResourceKind.apiVersion), "kind": "Secret", "metadata": ["name": .string(name), "namespace": "default"],
            "stringData": ["key": .string(value)],
        ]
    }

    /// Every byte of the store's files (database, WAL), as text.
    static func storeBytes(_ directory: URL) throws -> String {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix("store.sqlite") }
            .map { String(decoding: try Data(contentsOf: directory.appendingPathComponent($0)), as: UTF8.self) }.joined()
    }

    static func storedValue(_ store: ObjectStore, _ name: String) async throws -> String? {
        let secret = try await store.get(ObjectKey(.secret, namespace: "default", name: name)).document
        return secret["data"]?["key"]?.stringValue.flatMap(Base64.decode).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func secretsAreStoredEncryptedAndReadBackWithTheKeyFile() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("store.sqlite").path
        let keys = directory.appendingPathComponent("secret-keys.json").path
        let store = try await ObjectStore(journal: SQLiteJournal(path: path, secrets: SecretKeyring(path: keys)))
        _ = try await store.create(Self.secret("node-keys"), kind: .secret, dryRun: false)
        _ = try await store.create(SampleObjects.deployment("plain-marker"), kind: .serviceDeployment, dryRun: false)
        try await store.close()

        let bytes = try Self.storeBytes(directory)
        #expect(bytes.contains("plain-marker"), "the search sees stored text")
        #expect(!bytes.contains(Self.value) && !bytes.contains(Base64.encode(Array(Self.value.utf8))), "no secret value in the files")
        let mode = try FileManager.default.attributesOfItem(atPath: keys)[.posixPermissions] as? Int
        #expect(mode == 0o600)

        let reopened = try await ObjectStore(journal: SQLiteJournal(path: path, secrets: SecretKeyring(path: keys)))
        #expect(try await Self.storedValue(reopened, "node-keys") == Self.value)
        try await reopened.close()
        let withoutKeys = try await SQLiteJournal(path: path)
        let refusal = await #expect(throws: SecretKeyringError.self) { try await withoutKeys.load() }
        #expect(refusal?.description.contains(Self.value) == false)
        try await withoutKeys.close()
    }

    @Test func aKeyRotationReencryptsEverythingAndAnInterruptedOneLosesNothing() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("store.sqlite").path
        let keys = directory.appendingPathComponent("secret-keys.json").path
        let keyring = try SecretKeyring(path: keys)
        let firstKey = keyring.currentKeyID
        let store = try await ObjectStore(journal: SQLiteJournal(path: path, secrets: keyring))
        _ = try await store.create(Self.secret("a"), kind: .secret, dryRun: false)
        _ = try await store.create(Self.secret("b"), kind: .secret, dryRun: false)
        try await store.close()

        // Interrupted after the new key was added: both keys are in the file, all still opens.
        let interrupted = try SecretKeyring(path: keys)
        _ = try interrupted.addKey()
        let afterCrash = try await ObjectStore(journal: SQLiteJournal(path: path, secrets: SecretKeyring(path: keys)))
        #expect(try await Self.storedValue(afterCrash, "a") == Self.value)
        try await afterCrash.close()

        // A whole rotation: every row (objects and events) moves to the new key, the old ones go.
        let rotating = try SecretKeyring(path: keys)
        let newKey = try rotating.addKey()
        let journal = try await SQLiteJournal(path: path, secrets: rotating)
        #expect(try await journal.resealSecrets() == 4, "two objects and their two creation events")
        try rotating.retireOldKeys()
        try await journal.close()
        let reloaded = try SecretKeyring(path: keys)
        #expect(reloaded.keyIDs == [newKey] && newKey != firstKey)
        let rotated = try await ObjectStore(journal: SQLiteJournal(path: path, secrets: reloaded))
        #expect(try await Self.storedValue(rotated, "b") == Self.value)
        try await rotated.close()
    }
}
