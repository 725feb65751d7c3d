import AsyncHTTPClient
import DeployerModel
import Foundation
import NIOCore
import Synchronization
import Testing

/// Query logging over real processes: API nodes ship each query's event to an event server as
/// the deployer set them up, the deployer's audit trail arrives there too, and an outage of the
/// event server under load costs no query and no event.
@Suite struct QueryLoggingTests {
    static let eventServerConfig = """
        destinations:
          - name: queries
            topics: [apinode-query]
            requiredKeys: [query-key]
          - name: audit
            topics: [deployer-audit]
        """

    /// The clientEvent of each line printed by `apideployer logs`.
    static func events(in output: String) -> [JSONValue] {
        output.split(separator: "\n").compactMap { try? JSONValue.parse(String($0)) }
    }

    @Test func queriesLandInTheDeploymentsFolderWithTheirGenerationAndTheAuditTrailArrivesToo() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let config = scratch.url.appendingPathComponent("eventserver.yaml")
        try Self.eventServerConfig.write(to: config, atomically: true, encoding: .utf8)
        let root = scratch.url.appendingPathComponent("events")
        let server = try await EventServerDurabilityTests.start(root: root, in: scratch, arguments: ["--config", config.path])
        let logging: JSONValue = [
            "eventServer": ["url": .string(server.url), "authKeySecretRef": ["name": "event-key", "key": "key"]],
            "routingKey": "FromDeploymentName", "logQueries": true,
        ]
        let outcome = await Result {
            try await DeploymentWorld.with(deployerArguments: ["--audit-event-server", server.url], logging: logging) { world in
                try await world.apply([["kind": "Secret", "metadata": ["name": "event-key"], "stringData": ["key": "query-key"]]])
                try await world.apply([DeploymentWorld.deployment(spec: ["version": "v1"])])
                #expect(try await world.wait("Ready"))
                for node in world.nodes {
                    let settings = try await world.adminCall(node, .GET, "services/churn/logging")
                    #expect(settings["routingKey"] == "churn-dev" && settings["eventServers"]?.arrayValue?.first?["authKeySet"] == true)
                    #expect(!settings.serialized().contains(Array("query-key".utf8)), "the node never shows the key")
                }
                var sent: [String: String] = [:]
                for (index, node) in world.nodes.enumerated() {
                    for query in 0..<5 {
                        let id = "e2e-\(index)-\(query)"
                        let answer = try await world.predict(on: node, requestID: id)
                        #expect(answer.status == 200)
                        sent[id] = answer.generation
                    }
                }
                let follower = try ChildProcess(
                    Products.apideployer, ["logs", "queries", "churn-dev", "--event-server", server.url, "--since", "10m", "--follow"],
                    environment: ["APIDEPLOYER_EVENT_KEY": "query-key"], directory: scratch.url)
                for id in sent.keys.sorted() { _ = try await follower.waitForOutput(containing: #""requestId":"\#(id)""#) }
                let shown = Self.events(in: await follower.terminate().output)
                for (id, generation) in sent {
                    let event = shown.first { $0["requestId"]?.stringValue == id }
                    #expect(event?["generation"]?.stringValue == generation && generation == "v1", "\(id)")
                    #expect(event?["service"] == "churn" && event?["endpoint"] == "predict-churn" && event?["msgType"] == "prediction-query")
                    #expect(event?["features"]?["tenure"] == 3 && event?["result"]?["prediction"] != nil && event?["timing"] != nil)
                }
                let folders = try Self.eventFolders(under: root).filter { $0.hasPrefix("apinode-query/") }
                #expect(!folders.isEmpty && folders.allSatisfy { $0.wholeMatch(of: /apinode-query\/churn-dev\/\d{4}\/\d{2}\/\d{2}\/\d{2}/) != nil }, "\(folders)")

                let audit = try ChildProcess(
                    Products.apideployer, ["logs", "audit", "--event-server", server.url, "--since", "10m", "--follow"], directory: scratch.url)
                _ = try await audit.waitForOutput(containing: #""transition":"RolloutSucceeded""#)
                let trail = Self.events(in: await audit.terminate().output)
                #expect(trail.contains { $0["msgType"] == "api-write" && $0["kind"] == "ServiceDeployment" && $0["name"] == "churn-dev" && $0["decision"] == "allowed" })
                #expect(trail.contains { $0["msgType"] == "rollout" && $0["transition"] == "RolloutStarted" && $0["to"] == ["v1"] })
                #expect(!trail.contains { $0.serialized().contains(Array("query-key".utf8)) }, "secrets never reach the audit trail")
            }
        }
        _ = await server.child.terminate()
        try outcome.get()
    }

    /// What the load saw in each phase: latencies (ms) of answered queries, and failures.
    final class LoadRecord: @unchecked Sendable {
        private let lock = NSLock()
        private var latencies: [[Double]] = [[], [], []]
        private(set) var failures = 0
        private(set) var sent: [String] = []
        private var currentPhase = 0
        private var stopped = false

        /// The phase queries started now belong to.
        var phase: Int {
            get { lock.withLock { currentPhase } }
            set { lock.withLock { currentPhase = newValue } }
        }

        /// Whether the load should end.
        var isStopped: Bool {
            get { lock.withLock { stopped } }
            set { lock.withLock { stopped = newValue } }
        }

        func add(id: String, phase: Int, milliseconds: Double, ok: Bool) {
            lock.withLock {
                sent.append(id)
                if ok { latencies[phase].append(milliseconds) } else { failures += 1 }
            }
        }

        func summary(_ phase: Int) -> (count: Int, p50: Double, p99: Double) {
            lock.withLock {
                let sorted = latencies[phase].sorted()
                guard !sorted.isEmpty else { return (0, 0, 0) }
                return (sorted.count, sorted[sorted.count / 2], sorted[min(sorted.count - 1, sorted.count * 99 / 100)])
            }
        }
    }

    @Test func aSixtySecondEventServerOutageUnderLoadFailsNoQueryAndLosesNoEvent() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let root = scratch.url.appendingPathComponent("events")
        var server = try await EventServerDurabilityTests.start(root: root, in: scratch)
        let port = Int(server.url.split(separator: ":").last!)!
        let data = scratch.url.appendingPathComponent("node")
        let admin = data.appendingPathComponent("bin/apinode-admin").path
        let archive = scratch.url.appendingPathComponent("churn-v1.zip")
        _ = try await run(Products.apideployer, ["node", "init", data.path], in: scratch.url)
        _ = try await run(Products.apideployer, ["package", "build", Products.repository.appendingPathComponent("examples/packages/churn-v1").path, "-o", archive.path], in: scratch.url)
        for arguments in [["service-create", "churn"], ["service-import-generation", "churn", archive.path], ["service-switch-to-newest", "churn"]] {
            let result = try await run(admin, arguments, in: scratch.url)
            #expect(result.status == 0, "\(arguments): \(result.errors)")
        }
        let settings = #"{"eventServers": [{"url": "\#(server.url)"}], "routingKey": "churn-outage"}"#
        #expect(try await run(admin, ["service-set-logging", "churn"], in: scratch.url, input: settings).status == 0)
        let node = try ChildProcess(Products.apideployer, ["node", "serve", "--data-dir", data.path, "--port", "0"], directory: scratch.url)
        let started = try await node.waitForOutput(containing: "apinode: serving on ")
        let nodeURL = String(started[started.range(of: "serving on ")!.upperBound...].prefix { !$0.isWhitespace })
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let predict: @Sendable (String) async -> Bool = { [http, nodeURL] id in
            var request = HTTPClientRequest(url: "\(nodeURL)/public/api/v1/churn/predict-churn/predict")
            request.method = .POST
            request.headers.add(name: "X-Request-ID", value: id)
            request.body = .bytes(ByteBuffer(bytes: DeploymentWorld.sampleQuery.serialized()))
            guard let response = try? await http.execute(request, timeout: .seconds(10)) else { return false }
            _ = try? await response.body.collect(upTo: 1 << 20)
            return response.status == .ok
        }

        let record = LoadRecord()
        let outcome = await Result {
            // Two callers without pause; phases: before (0), during (1) and after (2) the outage.
            let load = (0..<2).map { caller in
                Task {
                    for index in 0..<2_000_000 where !record.isStopped {
                        let id = "q-\(caller)-\(index)"
                        let current = record.phase
                        let begun = ContinuousClock.now
                        let ok = await predict(id)
                        record.add(id: id, phase: current, milliseconds: (ContinuousClock.now - begun) / .milliseconds(1), ok: ok)
                    }
                }
            }
            try await Task.sleep(for: .seconds(15))
            server.child.signal(SIGKILL)
            _ = await server.child.finish()
            record.phase = 1
            try await Task.sleep(for: .seconds(60))
            server = try await EventServerDurabilityTests.start(root: root, in: scratch, port: port)
            record.phase = 2
            try await Task.sleep(for: .seconds(10))
            record.isStopped = true
            for task in load { await task.value }
            #expect(await predict("last"))

            let follower = try ChildProcess(
                Products.apideployer, ["logs", "queries", "churn-outage", "--event-server", server.url, "--since", "10m", "--follow"],
                directory: scratch.url)
            _ = try await follower.waitForOutput(containing: #""requestId":"last""#)
            let arrived = Set(Self.events(in: await follower.terminate().output).compactMap { $0["requestId"]?.stringValue })
            let missing = record.sent.filter { !arrived.contains($0) }
            #expect(record.failures == 0, "queries failed during the outage")
            #expect(missing.isEmpty, "\(missing.count) of \(record.sent.count) events never arrived, e.g. \(missing.prefix(5))")
            var metrics = HTTPClientRequest(url: "\(nodeURL)/metrics")
            metrics.method = .GET
            let exposition = String(buffer: try await http.execute(metrics, timeout: .seconds(10)).body.collect(upTo: 1 << 22))
            let spooled = exposition.split(separator: "\n").first { $0.hasPrefix("apinode_query_events_spooled_total{") }
            #expect(Int(spooled?.split(separator: " ").last ?? "") ?? 0 > 0, "the outage was bridged by the spool: \(spooled ?? "")")
            #expect(exposition.contains("apinode_query_events_dropped_total{event_server=\"\(server.url)\"} 0"))
            let (before, during, after) = (record.summary(0), record.summary(1), record.summary(2))
            print("""
                outage test: \(record.sent.count) queries, \(arrived.count) events arrived, \(record.failures) failures; \
                latency p50/p99 ms before \(before.p50)/\(before.p99) (\(before.count)), during \(during.p50)/\(during.p99) (\(during.count)), \
                after \(after.p50)/\(after.p99) (\(after.count))
                """)
        }
        record.isStopped = true
        try? await http.shutdown()
        _ = await node.terminate()
        _ = await server.child.terminate()
        try outcome.get()
    }

    /// The hour folders (relative to `root`) that hold event files.
    static func eventFolders(under root: URL) throws -> Set<String> {
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { return [] }
        var folders: Set<String> = []
        for case let url as URL in walker where url.lastPathComponent.hasPrefix("events-") {
            folders.insert(url.deletingLastPathComponent().path.replacingOccurrences(of: root.path + "/", with: ""))
        }
        return folders
    }
}
