import DeployerCore
import DeployerModel
import Logging
import NIOCore
import SQLiteNIO

/// A `StoreJournal` in one SQLite file in WAL mode with `synchronous=FULL`: each batch is one
/// transaction, fsynced before `append` returns, so acknowledged writes survive `kill -9`.
///
/// Tables: `objects` (the current state) and `events` (recent changes, for watches that resume
/// from a resource version across a restart).
public actor SQLiteJournal: StoreJournal {
    private let connection: SQLiteConnection
    private let eventRetention: Int
    private var appendsSincePrune = 0

    /// Opens (creating if needed) the database at `path`.
    public init(path: String, eventRetention: Int = 10_000) async throws {
        connection = try await SQLiteConnection.open(storage: .file(path: path), logger: Logger(label: "apideployer.sqlite"))
        self.eventRetention = eventRetention
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
            snapshot.objects.append(try Self.object(kind: kind, row: row))
            snapshot.lastResourceVersion = max(snapshot.lastResourceVersion, UInt64(row.column("rv")?.integer ?? 0))
        }
        let events = try await connection.query(
            "SELECT rv, type, kind, json FROM events ORDER BY rv DESC LIMIT ?", [.integer(eventRetention)])
        for row in events.reversed() {
            guard let kind = row.column("kind")?.string.flatMap(ResourceKind.byKind),
                let type = row.column("type")?.string.flatMap(WatchEventType.init(rawValue:))
            else { continue }
            let event = StoreEvent(type: type, object: try Self.object(kind: kind, row: row))
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
                    chunk.flatMap { record -> [SQLiteData] in
                        let object = record.event.object
                        return [
                            .text(object.key.kind.kind), .text(object.key.namespace), .text(object.key.name),
                            .integer(Int(object.resourceVersion)), .text(String(decoding: object.json, as: UTF8.self)),
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
                    chunk.flatMap { record -> [SQLiteData] in
                        [
                            .integer(Int(record.event.resourceVersion)), .text(record.event.type.rawValue),
                            .text(record.event.object.key.kind.kind),
                            .text(String(decoding: record.event.object.json, as: UTF8.self)),
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

    private static func object(kind: ResourceKind, row: SQLiteRow) throws -> StoredObject {
        let json = Array((row.column("json")?.string ?? "").utf8)
        return try StoredObject(kind: kind, json: json, resourceVersion: UInt64(row.column("rv")?.integer ?? 0))
    }
}

extension Array {
    /// Consecutive slices of at most `size` elements.
    func chunks(of size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
