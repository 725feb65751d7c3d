import Foundation
import Logging
import SQLiteNIO

/// The same writes straight into SQLite with the store's durability settings: the physical limit.
enum DirectSQLiteBench {
    struct Result {
        var insertsPerSecond = 0.0
        var updatesPerSecond = 0.0
        var batchedInsertsPerSecond = 0.0
        var batchedUpdatesPerSecond = 0.0
        var selectMedianMs = 0.0
        var selectP95Ms = 0.0
    }

    static func run(path: String, objects: Int) async throws -> Result {
        let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: Logger(label: "bench"))
        for statement in [
            "PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
            "CREATE TABLE objects (kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL, rv INTEGER NOT NULL, json TEXT NOT NULL, PRIMARY KEY (kind, namespace, name))",
            "CREATE TABLE events (rv INTEGER PRIMARY KEY, type TEXT NOT NULL, kind TEXT NOT NULL, json TEXT NOT NULL)",
        ] { try await connection.query(statement, []) { _ in } }
        var result = Result()
        var version = 0
        let json = String(decoding: APIBench.document(0, version: "v1"), as: UTF8.self)
        // One durable transaction per write, as a caller waiting for each acknowledgement sees it.
        func write(_ names: Range<Int>, prefix: String) async throws {
            try await connection.query("BEGIN IMMEDIATE", []) { _ in }
            for index in names {
                version += 1
                try await connection.query(
                    "INSERT OR REPLACE INTO objects VALUES ('ServiceDeployment','default',?,?,?)", [.text("\(prefix)\(index)"), .integer(version), .text(json)]
                ) { _ in }
                try await connection.query("INSERT INTO events VALUES (?, 'MODIFIED', 'ServiceDeployment', ?)", [.integer(version), .text(json)]) { _ in }
            }
            try await connection.query("COMMIT", []) { _ in }
        }
        result.insertsPerSecond = Double(objects) / (try await seconds { for index in 0..<objects { try await write(index..<(index + 1), prefix: "d-") } })
        result.updatesPerSecond = Double(objects) / (try await seconds { for index in 0..<objects { try await write(index..<(index + 1), prefix: "d-") } })
        result.batchedInsertsPerSecond = Double(objects) / (try await seconds {
            for start in stride(from: 0, to: objects, by: 64) { try await write(start..<min(start + 64, objects), prefix: "b-") }
        })
        result.batchedUpdatesPerSecond = Double(objects) / (try await seconds {
            for start in stride(from: 0, to: objects, by: 64) { try await write(start..<min(start + 64, objects), prefix: "b-") }
        })
        var times: [Double] = []
        for _ in 0..<20 {
            times.append(1000 * (try await seconds {
                try await connection.query("SELECT json FROM objects WHERE name LIKE 'd-%'", []) { _ in }
            }))
        }
        result.selectMedianMs = percentile(times, 0.5)
        result.selectP95Ms = percentile(times, 0.95)
        try await connection.close()
        return result
    }

    static func seconds(_ body: () async throws -> Void) async throws -> Double {
        let start = ContinuousClock.now
        try await body()
        return (ContinuousClock.now - start).seconds
    }
}
