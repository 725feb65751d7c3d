import DeployerModel
import Foundation
import Testing

@testable import APINode

/// The local query log: every queued event becomes one line, the bound drops and counts, and the
/// event fields have their reference formats.
@Suite struct QueryLogTests {
    @Test func everyQueuedEventIsWrittenOnceWhenTheLogFinishes() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("querylog-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let (log, writer) = QueryLog.make(dataDirectory: folder)
        let writing = Task { try await writer.run() }
        await withTaskGroup(of: Void.self) { group in
            for producer in 0..<4 {
                group.addTask {
                    for index in 0..<500 {
                        log.record(["timestamp": "2026-11-28T10:00:00.000Z", "producer": .int(Int64(producer)), "index": .int(Int64(index))], logging: nil)
                    }
                }
            }
        }
        log.record(["timestamp": "2026-11-29T00:00:00.000Z", "producer": 9, "index": 0], logging: nil)
        log.finish()
        try await writing.value
        let first = try String(contentsOf: folder.appendingPathComponent("logs/queries-2026-11-28.jsonl"), encoding: .utf8).split(separator: "\n")
        let second = try String(contentsOf: folder.appendingPathComponent("logs/queries-2026-11-29.jsonl"), encoding: .utf8).split(separator: "\n")
        let events = try first.map { try JSONValue.parse(String($0)) }
        #expect(events.count == 2000 && second.count == 1)
        #expect(Set(events.map { "\($0["producer"]!)/\($0["index"]!)" }).count == 2000, "each event exactly once")
        #expect(log.dropped == 0)
    }

    @Test func eventsBeyondTheBoundAreDroppedAndCounted() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("querylog-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let (log, writer) = QueryLog.make(dataDirectory: folder, bufferLimit: 3)
        for index in 0..<5 { log.record(["timestamp": "2026-11-28T10:00:00.000Z", "index": .int(Int64(index))], logging: nil) }
        #expect(log.dropped == 2)
        log.finish()
        try await writer.run()
        let lines = try String(contentsOf: folder.appendingPathComponent("logs/queries-2026-11-28.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3)
        log.record(["timestamp": "2026-11-28T10:00:00.000Z"], logging: nil)
        #expect(log.dropped == 3, "a finished log accepts nothing")
    }

    @Test func timestampsAndRequestIDsHaveTheirFormats() {
        #expect(QueryEvent.timestamp(Date(timeIntervalSince1970: 1_795_878_309.25)) == "2026-11-28T15:05:09.250Z")
        #expect(QueryEvent.timestamp(Date(timeIntervalSince1970: -0.5)) == "1969-12-31T23:59:59.500Z")
        // As the node makes them: a fresh query generator per query, one id each.
        let identifiers = (0..<10_000).map { _ in
            var generator = QueryRandom()
            return QueryEvent.requestID(using: &generator)
        }
        #expect(Set(identifiers).count == 10_000)
        for identifier in identifiers {
            let parts = identifier.split(separator: "-")
            #expect(parts.map(\.count) == [8, 4, 4, 4, 12] && parts[2].first == "4" && "89ab".contains(parts[3].first!), "\(identifier)")
            #expect(UUID(uuidString: identifier) != nil)
        }
    }
}
