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
