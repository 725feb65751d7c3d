import DeployerModel
import Foundation
import Testing

@testable import EventServer

@Suite struct ConfigAndRepairTests {
    func write(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("eventserver-config-\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func aConfigurationFileIsReadAndItsErrorsNameTheField() throws {
        let path = try write("""
            authKeys: [k1]
            maxFileBytes: 2048
            destinations:
              - name: queries
                topics: [apinode-query]
                routingKeys: [churn-dev]
                folder: monitoring
                requiredKeys: [k2]
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let config = try EventServerConfig.load(path: path)
        #expect(config.authKeys == ["k1"] && config.maxFileBytes == 2048)
        #expect(config.destinations == [Destination(name: "queries", topics: ["apinode-query"], routingKeys: ["churn-dev"], folder: "monitoring", requiredKeys: ["k2"])])

        for (text, message) in [
            ("destinations: [{name: a, folder: ../x}]", "destinations[0].folder"), ("destinations: [{folder: x}]", "destinations[0].name"),
            ("destinations: [{name: a}, {name: a}]", "used twice"), ("maxFileBytes: 10", "maxFileBytes"), ("colour: red", "unknown field \"colour\""),
            ("authKeys: [\"\"]", "authKeys[0]"),
        ] {
            let bad = try write(text)
            defer { try? FileManager.default.removeItem(atPath: bad) }
            do {
                _ = try EventServerConfig.load(path: bad)
                Issue.record("\(text) was accepted")
            } catch {
                #expect(error is ConfigError && "\(error)".contains(message) && "\(error)".hasPrefix(bad), "\(error)")
            }
        }
    }

    @Test func folderPatternsTakeDateTokensButLeaveNamesAsTheyAre() {
        let date = Date(timeIntervalSince1970: 1_795_878_309.25)  // 2026-11-28T15:05:09.250Z
        #expect(Destination(name: "d").folder(topic: "HHMM", routingKey: "DD-YYYY", date: date) == "HHMM/DD-YYYY/2026/11/28/15")
        #expect(Destination(name: "d", folder: "audit", pathPattern: "YYYY-MM/<topic>").folder(topic: "t", routingKey: "r", date: date) == "audit/2026-11/t")
    }

    @Test func aTornLastLineIsCutAndWholeFilesAreLeftAlone() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("eventserver-repair-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("t/r/2026/11/28/15")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let whole = String(repeating: "{\"a\":1}\n", count: 20_000)
        try (whole + "{\"a\":").write(to: folder.appendingPathComponent("events-00001.jsonl"), atomically: true, encoding: .utf8)
        try whole.write(to: folder.appendingPathComponent("events-00002.jsonl"), atomically: true, encoding: .utf8)
        try "{\"torn".write(to: folder.appendingPathComponent("events-00003.jsonl"), atomically: true, encoding: .utf8)
        let repaired = try TornLineRepair.repair(root: root).map { URL(fileURLWithPath: $0).lastPathComponent }.sorted()
        #expect(repaired == ["events-00001.jsonl", "events-00003.jsonl"])
        #expect(try String(contentsOf: folder.appendingPathComponent("events-00001.jsonl"), encoding: .utf8) == whole)
        #expect(try String(contentsOf: folder.appendingPathComponent("events-00002.jsonl"), encoding: .utf8) == whole)
        #expect(try String(contentsOf: folder.appendingPathComponent("events-00003.jsonl"), encoding: .utf8) == "")
    }
}

@Suite struct CompressionRecoveryTests {
    @Test func aCrashDuringCompressionIsFinishedAtStart() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("eventserver-recover-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        func path(_ name: String) -> String { folder.appendingPathComponent(name).path }
        for name in ["events-00001.jsonl", "events-00002.jsonl", "events-00003.jsonl", "events-00004.jsonl"] {
            try "{\"a\":1}\n".write(toFile: path(name), atomically: true, encoding: .utf8)
        }
        try EventFileCompressor.compress(path("events-00001.jsonl"))
        try "{\"a\":1}\n".write(toFile: path("events-00001.jsonl"), atomically: true, encoding: .utf8)  // killed before the unlink
        try "partial".write(toFile: path("events-00002.jsonl.gz.tmp"), atomically: true, encoding: .utf8)  // killed while writing
        let toCompress = try EventFileCompressor.recover(root: folder).map { URL(fileURLWithPath: $0).lastPathComponent }.sorted()
        #expect(toCompress == ["events-00002.jsonl", "events-00003.jsonl"], "all closed files but the newest")
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(left == ["events-00001.jsonl.gz", "events-00002.jsonl", "events-00003.jsonl", "events-00004.jsonl"])
        #expect(try EventFileCompressor.decompress(path("events-00001.jsonl.gz")) == Array("{\"a\":1}\n".utf8))
    }
}

@Suite struct EventReaderTests {
    @Test func linesAreReadByTimeRangeAndFromWhereTheLastReadEnded() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("eventserver-read-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent("events-00001.jsonl")
        func line(_ id: Int, _ minute: Int) -> String {
            #"{"clientEvent":{"id":\#(id)},"origAddress":"::1","serverTimestamp":"2026-11-28T15:0\#(minute):00.000+0000"}"# + "\n"
        }
        try (line(1, 1) + line(2, 2) + line(3, 3) + "{\"torn").write(to: file, atomically: true, encoding: .utf8)
        let first = try EventReader.lines(of: file, from: 0, since: "2026-11-28T15:02:00.000+0000", until: "9999")
        #expect(String(decoding: first.lines, as: UTF8.self) == line(2, 2) + line(3, 3))
        #expect(first.offset == (line(1, 1) + line(2, 2) + line(3, 3)).utf8.count, "a line being written is not read yet")
        let handle = try FileHandle(forWritingTo: file)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("\":1},\"origAddress\":\"::1\",\"serverTimestamp\":\"2026-11-28T15:04:00.000+0000\"}\n".utf8))
        try handle.close()
        let next = try EventReader.lines(of: file, from: first.offset, since: "2026-11-28T15:02:00.000+0000", until: "2026-11-28T15:05:00.000+0000")
        #expect(String(decoding: next.lines, as: UTF8.self).hasPrefix("{\"torn"))
        let none = try EventReader.lines(of: file, from: 0, since: "2026-11-28T15:01:30.000+0000", until: "2026-11-28T15:01:59.000+0000")
        #expect(none.lines.isEmpty)
    }

    @Test func timesAreDurationsBackOrRFC3339() throws {
        let now = Date(timeIntervalSince1970: 1_795_878_309)
        #expect(try EventReader.time("90s", now: now, parameter: "since") == now.addingTimeInterval(-90))
        #expect(try EventReader.time("2d", now: now, parameter: "since") == now.addingTimeInterval(-2 * 86400))
        #expect(try EventReader.time("2026-11-28T15:00:00Z", now: now, parameter: "since") == Date(timeIntervalSince1970: 1_795_878_000))
        #expect(throws: EventAccess.Refusal.self) { try EventReader.time("yesterday", now: now, parameter: "since") }
    }
}
