import DeployerModel
import Foundation
import Testing

@testable import APINode

/// The local query log: every queued event becomes one line, the bound drops and counts, and the
/// event fields have their reference formats.
@Suite struct QueryLogTests {
    static let day1 = Date(timeIntervalSince1970: 1_795_860_000)  // 2026-11-28T10:00:00Z
    static let day2 = Date(timeIntervalSince1970: 1_795_910_400)  // 2026-11-29T00:00:00Z

    func event(_ id: String, at date: Date = day1) -> QueryEvent {
        QueryEvent(
            requestID: id, date: date, service: "churn", endpoint: "predict-churn", verb: "predict",
            answer: PublicAPI.Answer(status: 200, body: ["result": ["prediction": "1"]], generation: "v1", request: ["features": ["tenure": 3]]),
            elapsed: .microseconds(1_500))
    }

    @Test func everyQueuedEventIsWrittenOnceWhenTheLogFinishes() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("querylog-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let (log, writer) = QueryLog.make(dataDirectory: folder)
        let writing = Task { try await writer.run() }
        await withTaskGroup(of: Void.self) { group in
            for producer in 0..<4 {
                group.addTask {
                    for index in 0..<500 {
                        log.record(event("\(producer)/\(index)"), logging: nil)
                    }
                }
            }
        }
        log.record(event("9/0", at: Self.day2), logging: nil)
        log.finish()
        try await writing.value
        let first = try String(contentsOf: folder.appendingPathComponent("logs/queries-2026-11-28.jsonl"), encoding: .utf8).split(separator: "\n")
        let second = try String(contentsOf: folder.appendingPathComponent("logs/queries-2026-11-29.jsonl"), encoding: .utf8).split(separator: "\n")
        let events = try first.map { try JSONValue.parse(String($0)) }
        #expect(events.count == 2000 && second.count == 1)
        #expect(Set(events.compactMap { $0["requestId"]?.stringValue }).count == 2000, "each event exactly once")
        #expect(log.dropped == 0)
    }

    @Test func aFileLongerThanSeveralReleaseStepsKeepsEveryByteAndAppendsWhenReopened() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("querylog-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var written: [UInt8] = []
        var file = try QueryLogFile(day: "2026-11-28", directory: folder)
        var bytes = (0..<1_048_573).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        for chunk in 0..<(Int(QueryLogFile.releaseStep) * 5 / 2 / bytes.count + 1) {
            bytes[chunk] = UInt8(truncatingIfNeeded: chunk)
            try file.append(bytes)
            written += bytes
        }
        try file.close()
        var reopened = try QueryLogFile(day: "2026-11-28", directory: folder)
        try reopened.append(Array("last\n".utf8))
        try reopened.close()
        written += Array("last\n".utf8)
        let read = try Data(contentsOf: folder.appendingPathComponent("queries-2026-11-28.jsonl"))
        #expect(read.count == written.count)
        #expect(read == Data(written))
    }

    @Test func eventsBeyondTheBoundAreDroppedAndCounted() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("querylog-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let (log, writer) = QueryLog.make(dataDirectory: folder, bufferLimit: 3)
        for index in 0..<5 { log.record(event("\(index)"), logging: nil) }
        #expect(log.dropped == 2)
        log.finish()
        try await writer.run()
        let lines = try String(contentsOf: folder.appendingPathComponent("logs/queries-2026-11-28.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3)
        log.record(event("late"), logging: nil)
        #expect(log.dropped == 3, "a finished log accepts nothing")
    }

    @Test func anEventHasTheReferenceFieldsInTheirFormats() throws {
        let answer = PublicAPI.Answer(
            status: 200, body: ["result": ["prediction": "1", "probas": ["0": 0.25, "1": 0.75]]], generation: "v2",
            request: ["features": ["tenure": 3, "plan": "basic \"gold\""], "context": ["user": "u1"], "dispatch": ["dispatchKey": "alice"]])
        let event = QueryEvent(
            requestID: "r-1", date: Self.day1, service: "churn", endpoint: "predict-churn", verb: "predict", answer: answer, elapsed: .microseconds(12_345))
        let text = String(decoding: event.line, as: UTF8.self)
        #expect(text.hasPrefix(#"{"msgType":"prediction-query","requestId":"r-1","timestamp":"2026-11-28T10:00:00.000Z","service":"churn","#))
        #expect(text.contains(#""timing":{"totalMs":12.345}"#))
        let parsed = try JSONValue.parse(text)
        #expect(parsed["generation"] == "v2" && parsed["status"] == 200 && parsed["features"]?["plan"] == "basic \"gold\"")
        #expect(parsed["result"]?["probas"]?["1"] == 0.75 && parsed["context"]?["user"] == "u1" && parsed["dispatchKey"] == "alice")
        let refused = QueryEvent(
            requestID: "r-2", date: Self.day1, service: "churn", endpoint: "predict-churn", verb: "predict-multi",
            answer: PublicAPI.Answer(status: 400, body: ["message": "no features"], generation: nil, request: ["items": [["features": ["a": 1]]]]),
            elapsed: .microseconds(7))
        let failed = try JSONValue.parse(refused.line)
        #expect(failed["error"] == "no features" && failed["items"] == [["a": 1]] && failed["generation"] == nil && failed["timing"]?["totalMs"] == 0.007)
    }

    @Test func functionSQLAndLookupQueriesHaveTheirMessageTypes() throws {
        func line(_ verb: String, request: JSONValue, body: JSONValue) throws -> JSONValue {
            try JSONValue.parse(QueryEvent(
                requestID: "r", date: Self.day1, service: "crm", endpoint: "e", verb: verb,
                answer: PublicAPI.Answer(status: 200, body: body, generation: "v1", request: request), elapsed: .microseconds(5)).line)
        }
        let function = try line("run", request: ["a": 1], body: ["response": ["sum": 3]])
        #expect(function["msgType"] == "function-query" && function["args"] == ["a": 1] && function["response"] == ["sum": 3])
        let select = try line("query", request: ["email": "a@b"], body: ["columns": ["id"], "rows": [["1"], ["2"]]])
        #expect(select["msgType"] == "sql-query" && select["parameters"] == ["email": "a@b"] && select["rowCount"] == 2)
        let update = try line("query", request: ["id": 1], body: ["updatedRows": 4])
        #expect(update["updatedRows"] == 4 && update["rowCount"] == nil)
        let lookups = try line(
            "lookup-multi", request: ["items": [["data": ["id": 1]], ["data": ["id": 2]]]],
            body: ["results": [["found": true, "data": ["id": 1]], ["found": false, "data": .null]]])
        #expect(lookups["msgType"] == "dataset-lookup-query" && lookups["items"] == [["id": 1], ["id": 2]] && lookups["found"] == [true, false])
        #expect(try line("lookup", request: ["data": ["id": 1]], body: ["results": [["found": true]]])["items"] == [["id": 1]])
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
