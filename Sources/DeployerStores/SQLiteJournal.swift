import DeployerCore
import DeployerModel
import Logging
import NIOCore
import SQLiteNIO

/// A `StoreJournal` in one SQLite file in WAL mode with `synchronous=FULL`: each batch is one
/// transaction, fsynced before `append` returns, so acknowledged writes survive `kill -9`.
///
/// Tables: `objects` (the current state) and `events` (recent changes, for watches that resume
/// from a resource version across a restart). With a keyring, Secret objects are stored
/// encrypted (AES-256-GCM, bound to the row's resource version) in both.
public actor SQLiteJournal: StoreJournal {
    private let connection: SQLiteConnection
    private let eventRetention: Int
    private let secrets: SecretKeyring?
    private var appendsSincePrune = 0

    /// Opens (creating if needed) the database at `path`.
    public init(path: String, eventRetention: Int = 10_000, secrets: SecretKeyring? = nil) async throws {
        connection = try await SQLiteConnection.open(storage: .file(path: path), logger: Logger(label: "apideployer.sqlite"))
        self.eventRetention = eventRetention
        self.secrets = secrets
        for statement in Self.setup { try await Self.run(connection, statement) }
    }

    private static let setup = [
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=FULL",
        "PRAGMA busy_timeout=5000",
        """
        CREATE TABLE IF NOT EXISTS objects (
            kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
            rv INTEGER NOT NULL, json TEXT NOT NULL, PRIMARY KEY (kind, namespace, name))
        """,
        "CREATE TABLE IF NOT EXISTS events (rv INTEGER PRIMARY KEY, type TEXT NOT NULL, kind TEXT NOT NULL, json TEXT NOT NULL)",
    ]

    public func load() async throws -> JournalSnapshot {
        var snapshot = JournalSnapshot()
        for row in try await connection.query("SELECT kind, rv, json FROM objects", []) {
            guard let kind = row.column("kind")?.string.flatMap(ResourceKind.byKind) else { continue }
            snapshot.objects.append(try object(kind: kind, row: row))
            snapshot.lastResourceVersion = max(snapshot.lastResourceVersion, UInt64(row.column("rv")?.integer ?? 0))
        }
        let events = try await connection.query(
            "SELECT rv, type, kind, json FROM events ORDER BY rv DESC LIMIT ?", [.integer(eventRetention)])
        for row in events.reversed() {
            guard let kind = row.column("kind")?.string.flatMap(ResourceKind.byKind),
                let type = row.column("type")?.string.flatMap(WatchEventType.init(rawValue:))
            else { continue }
            let event = StoreEvent(type: type, object: try object(kind: kind, row: row))
            snapshot.recentEvents.append(event)
            snapshot.lastResourceVersion = max(snapshot.lastResourceVersion, event.resourceVersion)
        }
        return snapshot
    }

    public func append(_ records: [JournalRecord]) async throws {
        try await Self.run(connection, "BEGIN IMMEDIATE")
        do {
            let upserts = records.filter { !$0.isDeletion }
            let deletions = records.filter(\.isDeletion)
            for chunk in upserts.chunks(of: 500) {
                let rows = Array(repeating: "(?,?,?,?,?)", count: chunk.count).joined(separator: ",")
                try await Self.run(
                    connection, "INSERT OR REPLACE INTO objects (kind, namespace, name, rv, json) VALUES \(rows)",
                    try chunk.flatMap { record -> [SQLiteData] in
                        let object = record.event.object
                        return [
                            .text(object.key.kind.kind), .text(object.key.namespace), .text(object.key.name),
                            .integer(Int(object.resourceVersion)), .text(try stored(object)),
                        ]
                    })
            }
            for record in deletions {
                let key = record.event.object.key
                try await Self.run(
                    connection, "DELETE FROM objects WHERE kind = ? AND namespace = ? AND name = ?",
                    [.text(key.kind.kind), .text(key.namespace), .text(key.name)])
            }
            for chunk in records.chunks(of: 500) {
                let rows = Array(repeating: "(?,?,?,?)", count: chunk.count).joined(separator: ",")
                try await Self.run(
                    connection, "INSERT INTO events (rv, type, kind, json) VALUES \(rows)",
                    try chunk.flatMap { record -> [SQLiteData] in
                        [
                            .integer(Int(record.event.resourceVersion)), .text(record.event.type.rawValue),
                            .text(record.event.object.key.kind.kind), .text(try stored(record.event.object)),
                        ]
                    })
            }
            appendsSincePrune += records.count
            if appendsSincePrune >= eventRetention / 4, let newest = records.last?.event.resourceVersion {
                appendsSincePrune = 0
                try await Self.run(
                    connection, "DELETE FROM events WHERE rv <= ?", [.integer(Int(newest) - eventRetention)])
            }
            try await Self.run(connection, "COMMIT")
        } catch {
            try? await Self.run(connection, "ROLLBACK")
            throw error
        }
    }

    /// Closes the database.
    public func close() async throws {
        try await connection.close()
    }

    private static func run(_ connection: SQLiteConnection, _ sql: String, _ binds: [SQLiteData] = []) async throws {
        try await connection.query(sql, binds) { _ in }
    }

    /// Encrypts every Secret row with the keyring's current key, in one transaction (the middle
    /// step of a key rotation); returns how many rows were rewritten.
    public func resealSecrets() async throws -> Int {
        guard secrets != nil else { return 0 }
        var rewritten = 0
        try await Self.run(connection, "BEGIN IMMEDIATE")
        do {
            for table in ["objects", "events"] {
                let rows = try await connection.query(
                    "SELECT rowid AS id, rv, json FROM \(table) WHERE kind = ?", [.text(ResourceKind.secret.kind)])
                for row in rows {
                    guard let id = row.column("id")?.integer else { throw SecretKeyringError("a secret row has no rowid") }
                    let object = try object(kind: .secret, row: row)
                    try await Self.run(connection, "UPDATE \(table) SET json = ? WHERE rowid = ?", [.text(try stored(object)), .integer(id)])
                    rewritten += 1
                }
            }
            try await Self.run(connection, "COMMIT")
        } catch {
            try? await Self.run(connection, "ROLLBACK")
            throw error
        }
        return rewritten
    }

    /// The `json` column of an object: sealed for a Secret when there is a keyring.
    private func stored(_ object: StoredObject) throws -> String {
        guard object.key.kind == .secret, let secrets else { return String(decoding: object.json, as: UTF8.self) }
        return try secrets.seal(object.json, context: Self.sealContext(object.resourceVersion))
    }

    private func object(kind: ResourceKind, row: SQLiteRow) throws -> StoredObject {
        let text = row.column("json")?.string ?? ""
        let version = UInt64(row.column("rv")?.integer ?? 0)
        guard SecretKeyring.isSealed(text) else { return try StoredObject(kind: kind, json: Array(text.utf8), resourceVersion: version) }
        guard let secrets else { throw SecretKeyringError("the store holds encrypted secrets but no key file was given") }
        let json = try secrets.open(text, context: Self.sealContext(version))
        return try StoredObject(kind: kind, json: json, resourceVersion: version)
    }

    /// What a sealed row is bound to: a sealed secret copied onto another row does not open.
    private static func sealContext(_ resourceVersion: UInt64) -> String { "Secret@\(resourceVersion)" }
}

extension Array {
    /// Consecutive slices of at most `size` elements.
    func chunks(of size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
