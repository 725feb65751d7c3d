import CloudHTTP
import DeployerModel
import Foundation
import Testing

/// `apideployer controller --kubernetes`, twice, on the custom resources of a Kubernetes-shaped
/// API server (`serve --no-controller`; its kubeconfig): one leads through the
/// `coordination.k8s.io/v1` Lease and reconciles, the other waits; the leader killed with SIGKILL,
/// the other takes over once the lease expires and rolls out the next version, each pre-deploy
/// hook having run once.
@Suite struct KubernetesControllerTests {
    struct Controller {
        let identity: String
        let process: ChildProcess
        let health: String
    }

    /// `controller --kubernetes` on the cluster of `kubeconfig`, its Lease in `default`.
    static func startController(_ identity: String, kubeconfig: String, scratch: Scratch, webhook: [String] = []) async throws -> Controller {
        let process = try ChildProcess(
            Products.apideployer,
            [
                "controller", "--kubernetes", "--kubeconfig", kubeconfig, "--identity", identity, "--lease-namespace", "default",
                "--health-host", "127.0.0.1", "--health-port", "0", "--cache-dir", scratch.url.appendingPathComponent(identity).path,
            ] + webhook, directory: scratch.url)
        let line = try await process.waitForOutput(containing: "health on ")
        return Controller(identity: identity, process: process, health: String(line[line.range(of: "health on ")!.upperBound...].prefix { !$0.isWhitespace }))
    }

    /// The sum of `reconcile_total` in a controller's metrics.
    static func reconciles(_ controller: Controller, in scratch: Scratch) async throws -> Double {
        let metrics = try await run("/usr/bin/env", ["curl", "-s", "\(controller.health)/metrics"], in: scratch.url).output
        return metrics.split(separator: "\n").filter { $0.hasPrefix("reconcile_total") }.compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
    }

    func holder(_ world: DeploymentWorld) async throws -> String? {
        let lease = try await world.client.send(.GET, "/apis/coordination.k8s.io/v1/namespaces/default/leases/apideployer-controller")
        return lease.status == 200 ? try lease.json()["spec"]?["holderIdentity"]?.stringValue : nil
    }

    @Test func onlyTheLeaderReconcilesAndTheOtherTakesOverAfterTheLeaderDies() async throws {
        try await DeploymentWorld.with(nodes: 1, embeddedController: false) { world in
            // Packages come from their URLs: a controller in a cluster has no package store.
            let folder = world.scratch.url.appendingPathComponent("packages")
            let files = try ChildProcess("/usr/bin/env", ["python3", "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", folder.path], directory: world.scratch.url)
            let port = try await files.waitForOutput(containing: "Serving HTTP on").firstMatch(of: /port (\d+)/).map { String($0.1) } ?? ""
            let versions: JSONValue = .array(["v1", "v2"].map { version in
                ["version": .string(version), "package": ["sha256": .string(world.digests["churn"]?[version] ?? ""), "url": .string("http://127.0.0.1:\(port)/churn-\(version).zip")]]
            })
            try await world.apply([["kind": "PublishedService", "metadata": ["name": "churn"], "spec": ["versions": versions]]])
            let marker = world.scratch.url.appendingPathComponent("hook-runs")
            let hooks: JSONValue = ["preDeploy": [["name": "count", "exec": ["command": ["/bin/sh", "-c", .string("echo $(cat) >> \(marker.path)")]]]]]

            let certificate = world.scratch.url.appendingPathComponent("webhook.crt").path
            let key = world.scratch.url.appendingPathComponent("webhook.key").path
            _ = try await run(
                "/usr/bin/env", ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days", "1", "-subj", "/CN=localhost"],
                in: world.scratch.url)
            let first = try await Self.startController(
                "controller-a", kubeconfig: world.server.kubeconfigPath, scratch: world.scratch, webhook: ["--webhook-cert", certificate, "--webhook-key", key, "--webhook-port", "0"])
            let webhookLine = try await first.process.waitForOutput(containing: "admission webhook on ")
            let webhook = String(webhookLine[webhookLine.range(of: "admission webhook on ")!.upperBound...].prefix { !$0.isWhitespace })
            let review = AdmissionWebhookReview.create(user: "mallory", groups: ["system:authenticated"])
            let refused = try JSONValue.parse(Array(try await run(
                "/usr/bin/env", ["curl", "-sk", "-H", "Content-Type: application/json", "-d", String(decoding: review.serialized(), as: UTF8.self), "\(webhook)/admission/v1/review"],
                in: world.scratch.url).output.utf8))
            #expect(refused["response"]?["allowed"] == false && refused["response"]?["uid"] == "review-1", "the webhook refuses over TLS: \(refused)")
            let second = try await Self.startController("controller-b", kubeconfig: world.server.kubeconfigPath, scratch: world.scratch)
            try await world.apply([DeploymentWorld.deployment(spec: ["version": "v1", "hooks": hooks])])
            #expect(try await world.wait("Ready"), "the leader rolled v1 out")
            let leaderName = try #require(try await holder(world))
            let (leader, follower) = leaderName == first.identity ? (first, second) : (second, first)
            #expect(try await Self.reconciles(leader, in: world.scratch) > 0)
            #expect(try await Self.reconciles(follower, in: world.scratch) == 0, "only the leader reconciles")

            leader.process.signal(SIGKILL)
            _ = await leader.process.finish()
            let killed = ContinuousClock.now
            try await world.apply([DeploymentWorld.deployment(spec: ["version": "v2", "hooks": hooks])])
            #expect(try await world.wait("Ready", timeout: "90s"), "the other controller rolled v2 out")
            let handover = ContinuousClock.now - killed
            print("KubernetesControllerTests: v2 Ready \(handover) after the leader was killed (lease 15 s, retry 2 s)")
            #expect(try await holder(world) == follower.identity)
            #expect(try await Self.reconciles(follower, in: world.scratch) > 0)
            let object = try await world.deploymentObject()
            #expect(object["status"]?["activeGenerations"]?.arrayValue?.first?["version"] == "v2")
            let runs = try String(contentsOf: marker, encoding: .utf8).split(separator: "\n")
            #expect(runs.count == 2, "one pre-deploy hook per rollout: \(runs)")
            #expect(try await world.served(on: world.nodes[0])?.generations.contains("v2") == true)

            _ = await follower.process.terminate()
            files.signal(SIGKILL)
            _ = await files.finish()
        }
    }
}

/// An AdmissionReview of creating deployment `churn-dev` on infrastructure `static` (which names
/// no permissions: only global admins may deploy there).
enum AdmissionWebhookReview {
    static func create(user: String, groups: [String]) -> JSONValue {
        [
            "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": [
                "uid": "review-1", "kind": ["group": "apideployer.dev", "version": "v1alpha1", "kind": "ServiceDeployment"], "namespace": "default",
                "name": "churn-dev", "operation": "CREATE", "userInfo": ["username": .string(user), "groups": .array(groups.map(JSONValue.string))],
                "object": DeploymentWorld.deployment(spec: ["version": "v1"]),
            ],
        ]
    }
}
