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
