import CloudHTTP
import DeployerModel
import Foundation
import Synchronization
import Testing

/// The controller end to end over real processes: a deployer with its controller, API nodes,
/// the example churn packages, and the checks made on the nodes themselves.
@Suite struct DeploymentEndToEndTests {
    /// Whether every node serves exactly `versions` (weights in percent) for `churn`.
    func everyNodeServes(_ world: DeploymentWorld, _ versions: [String: Int], strategy: String = "RANDOM") async throws -> Bool {
        for node in world.nodes {
            guard let served = try await world.served(on: node), served.enabled, let mapping = served.mapping else { return false }
            let entries = (mapping["entries"]?.arrayValue ?? []).map {
                ($0["generation"]?.stringValue ?? "", Int((($0["proba"]?.doubleValue ?? 0) * 100).rounded()))
            }
            guard Dictionary(uniqueKeysWithValues: entries) == versions else { return false }
            if versions.count > 1, mapping["strategy"]?.stringValue != strategy { return false }
        }
        return true
    }

    @Test func deployUpgradeUnderLoadSplitAndDelete() async throws {
        try await DeploymentWorld.with() { world in
            let markers = world.scratch.url
            let deleteHooks: JSONValue = [
                "preDelete": [["name": "before", "exec": ["command": ["/bin/sh", "-c", .string("cat > \(markers.path)/pre-delete.json")]]]],
                "postDelete": [["name": "after", "exec": ["command": ["/bin/sh", "-c", .string("cat > \(markers.path)/post-delete.json")]]]],
            ]
            let query: JSONValue = ["endpoint": "predict-churn", "query": DeploymentWorld.sampleQuery, "expect": ["prediction": "1"]]

            try await world.apply([DeploymentWorld.deployment(spec: ["version": "v1", "testQueries": [query], "hooks": deleteHooks])])
            #expect(try await world.wait("Ready"))
            #expect(try await everyNodeServes(world, ["v1": 100]))
            let first = try await world.deploymentObject()
            #expect(first["status"]?["observedGeneration"] == first["metadata"]?["generation"])
            #expect(first["metadata"]?["finalizers"]?.arrayValue == ["apideployer.dev/finalizer"])

            // Version 2 while both nodes answer a steady stream of queries: none may fail.
            let failures = Atomic<Int>(0)
            let answered = Atomic<Int>(0)
            let stop = Atomic<Bool>(false)
            let load = Task {
                for round in 0..<20_000 where !stop.load(ordering: .relaxed) {
                    let node = world.nodes[round % world.nodes.count]
                    let answer = try? await world.predict(on: node)
                    if answer?.status == 200 { answered.add(1, ordering: .relaxed) } else { failures.add(1, ordering: .relaxed) }
                }
            }
            try await world.apply([DeploymentWorld.deployment(spec: ["version": "v2", "testQueries": [query], "hooks": deleteHooks])])
            #expect(try await world.wait("Ready"))
            // `wait` returned: every node must already serve version 2.
            #expect(try await everyNodeServes(world, ["v2": 100]))
            for node in world.nodes { #expect(try await world.predict(on: node).generation == "v2") }
            stop.store(true, ordering: .relaxed)
            await load.value
            #expect(failures.load(ordering: .relaxed) == 0, "queries failed during the rollout")
            #expect(answered.load(ordering: .relaxed) > 0)
            // Version 1 is no longer explained by the spec: it is gone from the nodes.
            for node in world.nodes { #expect(try await world.served(on: node)?.generations == ["v2"]) }

            // A 90/10 split by hash of the dispatch key, active on every node.
            let split: JSONValue = ["strategy": "Hash", "entries": [["version": "v1", "weight": 90], ["version": "v2", "weight": 10]]]
            try await world.apply([DeploymentWorld.deployment(spec: ["generations": split, "testQueries": [query], "hooks": deleteHooks])])
            #expect(try await world.wait("Ready"))
            #expect(try await everyNodeServes(world, ["v1": 90, "v2": 10], strategy: "HASH_BASED"))
            for key in ["alice", "bob", "carol"] {
                let generations = try await world.nodes.asyncMap { try await world.predict(on: $0, dispatchKey: key).generation }
                #expect(Set(generations).count == 1, "the same key lands on the same generation on every node")
            }

            // Delete: hooks run, the service leaves every node, the finalizer goes.
            let deleted = try await run(
                Products.apideployer, ["delete", "servicedeployment", "churn-dev", "--kubeconfig", world.server.kubeconfigPath], in: world.scratch.url)
            #expect(deleted.status == 0, "\(deleted.errors)")
            for node in world.nodes { #expect(try await world.served(on: node) == nil) }
            for hook in ["pre-delete", "post-delete"] {
                let input = try JSONValue.parse(Data(contentsOf: markers.appendingPathComponent("\(hook).json")))
                #expect(input["deployment"]?.stringValue == "churn-dev")
                #expect(input["phase"]?.stringValue == (hook == "pre-delete" ? "preDelete" : "postDelete"))
            }
            let gone = try await world.client.send(.GET, APIPaths.object(.serviceDeployment, namespace: "default", name: "churn-dev"))
            #expect(gone.status == 404)
        }
    }

    @Test func aFailingPreDeployHookStallsAndVersionOneKeepsServing() async throws {
        try await DeploymentWorld.with() { world in
            try await world.apply([DeploymentWorld.deployment(spec: ["version": "v1"])])
            #expect(try await world.wait("Ready"))
            let refusing: JSONValue = ["preDeploy": [["name": "change-ticket", "exec": ["command": ["/bin/sh", "-c", "echo '{\"message\": \"no ticket\"}'; exit 3"]]]]]
            try await world.apply([DeploymentWorld.deployment(spec: ["version": "v2", "hooks": refusing])])
            #expect(try await world.wait("Stalled"))
            let stalled = try await world.deploymentObject()
            #expect(stalled.condition("Stalled")?["reason"]?.stringValue == "PreDeployHookFailed")
            #expect(stalled.condition("Stalled")?["message"]?.stringValue?.contains("no ticket") == true)
            #expect(stalled.condition("Ready")?["status"]?.stringValue == "False")
            #expect(try await everyNodeServes(world, ["v1": 100]))
            for node in world.nodes {
                #expect(try await world.served(on: node)?.generations == ["v1"], "nothing was staged")
                #expect(try await world.predict(on: node).generation == "v1")
            }
            let history = stalled["status"]?["history"]?.arrayValue ?? []
            #expect(history.last?["outcome"]?.stringValue == "Failed")
            #expect(history.last?["hooks"]?.arrayValue?.first?["result"]?.stringValue == "Failed")
            #expect(history.last?["requester"]?.stringValue == "admin")

            // A spec change that fixes the hook clears the stall.
            let accepting: JSONValue = ["preDeploy": [["name": "change-ticket", "exec": ["command": ["/bin/true"]]]]]
            try await world.apply([DeploymentWorld.deployment(spec: ["version": "v2", "hooks": accepting])])
            #expect(try await world.wait("Ready"))
            #expect(try await everyNodeServes(world, ["v2": 100]))
        }
    }

    @Test func aFailingTestQueryRefusesTheRolloutAndVersionOneKeepsServing() async throws {
        try await DeploymentWorld.with() { world in
            try await world.apply([DeploymentWorld.deployment(spec: ["version": "v1"])])
            #expect(try await world.wait("Ready"))
            let impossible: JSONValue = ["endpoint": "predict-churn", "query": DeploymentWorld.sampleQuery, "expect": ["prediction": "never"]]
            try await world.apply([DeploymentWorld.deployment(spec: ["version": "v2", "testQueries": [impossible]])])
            #expect(try await world.wait("Stalled"))
            let stalled = try await world.deploymentObject()
            #expect(stalled.condition("Stalled")?["reason"]?.stringValue == "TestQueryFailed")
            #expect(try await everyNodeServes(world, ["v1": 100]))
            for node in world.nodes {
                #expect(try await world.served(on: node)?.generations == ["v1"], "the staged version 2 was removed again")
                #expect(try await world.predict(on: node).generation == "v1")
            }
            // Not retried in a loop: the same generation stays stalled with one failed rollout.
            #expect(try await world.wait("Ready", timeout: "2s") == false)
            let later = try await world.deploymentObject()
            #expect(later["status"]?["history"]?.arrayValue?.count == stalled["status"]?["history"]?.arrayValue?.count)
        }
    }

    @Test func driftIsCorrectedAndRecorded() async throws {
        try await DeploymentWorld.with(resyncPeriod: "1s") { world in
            try await world.apply([DeploymentWorld.deployment(spec: ["version": "v1"])])
            #expect(try await world.wait("Ready"))
            // Someone disables the service behind the controller's back.
            // (With a 1 s resync the controller may correct it before we could look, so the
            // proof is the Drift record below.)
            _ = try await world.adminCall(world.nodes[0], .POST, "services/churn/actions/disable")
            let corrected = try await world.watchDeployment { object in
                let last = object["status"]?["history"]?.arrayValue?.last
                return last?["trigger"]?.stringValue == "Drift" && last?["outcome"]?.stringValue == "Succeeded"
            }
            #expect(corrected != nil)
            #expect(try await everyNodeServes(world, ["v1": 100]))
            let log = corrected?["status"]?["history"]?.arrayValue?.last?["log"]?.arrayValue?.compactMap(\.stringValue) ?? []
            #expect(log.contains { $0.contains("drift on node-0") })
        }
    }

    @Test func kubectlWaitReturnsOnlyOnceTheNodesServeTheGeneration() async throws {
        try await DeploymentWorld.with() { world in
            try await world.apply([DeploymentWorld.deployment(spec: ["version": "v1"])])
            let waited = try await run(
                "/usr/bin/env",
                ["kubectl", "--kubeconfig", world.server.kubeconfigPath, "wait", "--for=condition=Ready", "sdep/churn-dev", "--timeout=60s"],
                environment: ["KUBECACHEDIR": world.scratch.url.appendingPathComponent("kube-cache").path], in: world.scratch.url)
            #expect(waited.status == 0, "\(waited.errors)")
            #expect(try await everyNodeServes(world, ["v1": 100]))
        }
    }
}

extension Array where Element: Sendable {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
