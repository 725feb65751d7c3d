import DeployerModel
import Foundation
import Logging
import Testing

@testable import EventServer

/// Ingest without HTTP: envelopes, the three body forms, routing, keys, and refusals that store
/// nothing.
@Suite struct EventIngestTests {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("eventserver-\(UUID().uuidString)")
    static let date = Date(timeIntervalSince1970: 1_795_878_309.25)  // 2026-11-28T15:05:09.250Z

    func makeIngest(_ config: EventServerConfig = EventServerConfig(), compressor: EventFileCompressor? = nil) -> (EventIngest, DurableAppender) {
        let appender = DurableAppender(root: root, maxFileBytes: config.maxFileBytes, compressor: compressor) { _, _, _ in }
        return (EventIngest(access: EventAccess(config: config), appender: appender, metrics: EventServerMetrics(), now: { Self.date }), appender)
    }

    /// Every stored line under the root, parsed, with the folder it is in.
    func stored() throws -> [(folder: String, line: JSONValue)] {
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { return [] }
        var lines: [(String, JSONValue)] = []
        for case let url as URL in walker where EventFile.sequence(of: url.lastPathComponent) != nil {
            let folder = url.deletingLastPathComponent().path.replacingOccurrences(of: root.path + "/", with: "")
            let content = url.pathExtension == "gz" ? try EventFileCompressor.decompress(url.path) : Array(try Data(contentsOf: url))
            for line in content.split(separator: UInt8(ascii: "\n")) { lines.append((folder, try JSONValue.parse(line))) }
        }
        return lines
    }

    @Test func oneEventAnArrayAndNDJSONAreStoredInTheirEnvelopes() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let (ingest, appender) = makeIngest()
        defer { appender.stop() }
        let single = await ingest.ingest(topic: "apinode-query", routingKey: "churn-dev", key: nil, ndjson: false, body: Array(#"{"id":1}"#.utf8), origin: "10.0.0.7")
        #expect(single.status == 200 && single.body["stored"] == 1)
        let array = await ingest.ingest(topic: "apinode-query", routingKey: "churn-dev", key: nil, ndjson: false, body: Array(#"[{"id":2},{"id":3}]"#.utf8), origin: "10.0.0.7")
        #expect(array.body["stored"] == 2)
        let lines = await ingest.ingest(topic: "apinode-query", routingKey: nil, key: nil, ndjson: true, body: Array("{\"id\":4}\n\n{\"id\":5}\n".utf8), origin: "::1")
        #expect(lines.body["stored"] == 2)
        let events = try stored()
        #expect(Set(events.map(\.folder)) == ["apinode-query/churn-dev/2026/11/28/15", "apinode-query/default/2026/11/28/15"])
        #expect(Set(events.compactMap { $0.line["clientEvent"]?["id"]?.doubleValue }) == [1, 2, 3, 4, 5])
        let first = try #require(events.first { $0.line["clientEvent"]?["id"] == 1 }?.line)
        #expect(first["origAddress"] == "10.0.0.7" && first["serverTimestamp"] == "2026-11-28T15:05:09.250+0000")
    }

    @Test(arguments: [
        ("{\"id\":", false, 400, "malformed"), ("[{\"id\":1},2]", false, 400, "malformed"), ("{\"id\":1}\n{oops}", true, 400, "malformed"),
        ("[]", false, 400, "bad-request"),
    ])
    func badBodiesAreRefusedAndNothingIsStored(body: String, ndjson: Bool, status: Int, reason: String) async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let (ingest, appender) = makeIngest()
        defer { appender.stop() }
        let answer = await ingest.ingest(topic: "t", routingKey: "r", key: nil, ndjson: ndjson, body: Array(body.utf8), origin: "")
        #expect(answer.status == status && answer.body["reason"]?.stringValue == reason, "\(answer.body)")
        #expect(try stored().isEmpty)
    }

    @Test func aBadNDJSONLineIsNamedByItsLineNumber() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let (ingest, appender) = makeIngest()
        defer { appender.stop() }
        let answer = await ingest.ingest(topic: "t", routingKey: "r", key: nil, ndjson: true, body: Array("{\"id\":1}\n\n  \n{oops}\n".utf8), origin: "")
        #expect(answer.status == 400 && answer.body["message"]?.stringValue?.hasPrefix("line 4: ") == true, "\(answer.body)")
        #expect(try stored().isEmpty)
    }

    @Test func topicsRoutingKeysAndKeysAreChecked() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let config = EventServerConfig(
            authKeys: ["global-key"],
            destinations: [
                Destination(name: "queries", topics: ["apinode-query"], folder: "queries"),
                Destination(name: "audit", topics: ["deployer-audit"], folder: "audit", pathPattern: "<topic>/YYYY/MM/", requiredKeys: ["audit-key"]),
            ])
        let (ingest, appender) = makeIngest(config)
        defer { appender.stop() }
        let body = Array(#"{"id":1}"#.utf8)
        func status(_ topic: String?, _ routingKey: String? = "r", key: String?) async -> Int {
            await ingest.ingest(topic: topic, routingKey: routingKey, key: key, ndjson: false, body: body, origin: "").status
        }
        #expect(await status("apinode-query", key: nil) == 401)
        #expect(await status("apinode-query", key: "wrong") == 401)
        #expect(await status("apinode-query", key: "audit-key") == 403, "a destination's own key is not a global key")
        #expect(await status("deployer-audit", key: "global-key") == 403)
        #expect(await status("unknown-topic", key: "global-key") == 404)
        #expect(await status("../etc", key: "global-key") == 400)
        #expect(await status(nil, key: "global-key") == 400)
        #expect(await status("apinode-query", "a/b", key: "global-key") == 400)
        #expect(try stored().isEmpty, "nothing refused is stored")
        #expect(await status("apinode-query", key: "global-key") == 200)
        #expect(await status("deployer-audit", key: "audit-key") == 200)
        #expect(Set(try stored().map(\.folder)) == ["queries/apinode-query/r/2026/11/28/15", "audit/deployer-audit/2026/11"])
    }

    @Test func aDestinationWithoutKeysIsOpenNextToOneThatRequiresThem() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let config = EventServerConfig(destinations: [
            Destination(name: "queries", topics: ["apinode-query"], requiredKeys: ["query-key"]), Destination(name: "audit", topics: ["deployer-audit"]),
        ])
        let (ingest, appender) = makeIngest(config)
        defer { appender.stop() }
        func status(_ topic: String, key: String?) async -> Int {
            await ingest.ingest(topic: topic, routingKey: "r", key: key, ndjson: false, body: Array(#"{"id":1}"#.utf8), origin: "").status
        }
        #expect(await status("apinode-query", key: nil) == 401)
        #expect(await status("unknown-topic", key: nil) == 401, "nothing about topics is said to a caller without a key")
        #expect(await status("deployer-audit", key: nil) == 200)
        #expect(await status("deployer-audit", key: "query-key") == 200, "an open destination takes any valid key too")
        #expect(await status("deployer-audit", key: "wrong") == 401)
        #expect(await status("apinode-query", key: "query-key") == 200)
    }

    @Test func concurrentRequestsAreAllStoredFilesRotateBySizeAndClosedOnesAreCompressed() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let compressor = EventFileCompressor(logger: Logger(label: "test"))
        defer { compressor.stop() }
        let (ingest, appender) = makeIngest(EventServerConfig(maxFileBytes: 4096), compressor: compressor)
        defer { appender.stop() }
        await withTaskGroup(of: Int.self) { group in
            for writer in 0..<20 {
                group.addTask {
                    let events = (0..<10).map { #"{"writer":\#(writer),"n":\#($0)}"# }.joined(separator: "\n")
                    return await ingest.ingest(topic: "t", routingKey: "r", key: nil, ndjson: true, body: Array(events.utf8), origin: "").status
                }
            }
            for await status in group { #expect(status == 200) }
        }
        compressor.drain()
        let events = try stored()
        #expect(events.count == 200)
        #expect(Set(events.map { "\($0.line["clientEvent"]!["writer"]!)/\($0.line["clientEvent"]!["n"]!)" }).count == 200)
        let folder = root.appendingPathComponent("t/r/2026/11/28/15")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        let newest = try #require(files.max { EventFile.sequence(of: $0)! < EventFile.sequence(of: $1)! })
        #expect(files.count > 1 && newest.hasSuffix(".jsonl") && files.filter { $0.hasSuffix(".jsonl") } == [newest], "closed files are gzipped: \(files)")
        for file in files {
            let content = file.hasSuffix(".gz") ? try EventFileCompressor.decompress(folder.appendingPathComponent(file).path) : Array(try Data(contentsOf: folder.appendingPathComponent(file)))
            #expect(content.count <= 4096, "\(file): \(content.count) bytes")
        }
        // Reading back goes through the gzips and the open file alike, once each.
        let reader = EventReader(root: root)
        let readable = reader.files(destinations: [Destination(name: "default")], topic: "t", routingKey: "r", since: Self.date, until: Self.date)
        let read = try readable.reduce(0) { count, file in
            count + (try EventReader.lines(of: file, from: 0, since: "2026", until: "9999").lines.split(separator: UInt8(ascii: "\n")).count)
        }
        #expect(readable.count == files.count && read == 200)
    }
}
