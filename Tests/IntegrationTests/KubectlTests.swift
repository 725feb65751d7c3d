import CloudHTTP
import DeployerModel
import DeployerTesting
import Foundation
import Testing

/// The real kubectl (fresh discovery cache) against `apideployer serve` over HTTPS with a token.
@Suite(.serialized) struct KubectlTests {
    let scratch: Scratch
    let server: ServerProcess

    init() async throws {
        scratch = try Scratch()
        server = try await ServerProcess.start(dataDirectory: scratch.url.appendingPathComponent("data"))
    }

    func kubectl(_ arguments: String...) async throws -> CommandResult {
        try await kubectlProcess(arguments).finish()
    }

    func kubectlProcess(_ arguments: [String]) throws -> ChildProcess {
        try ChildProcess(
            "/usr/bin/env", ["kubectl", "--kubeconfig", server.kubeconfigPath] + arguments,
            environment: ["KUBECACHEDIR": scratch.url.appendingPathComponent("kube-cache").path], directory: scratch.url)
    }

    func write(_ name: String, _ text: String) throws -> String {
        let path = scratch.url.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func deploymentYAML(_ name: String, version: String = "v1", extra: String = "") -> String {
        """
        apiVersion: apideployer.dev/v1alpha1
        kind: ServiceDeployment
        metadata:
          name: \(name)
        spec:
          service: churn
          infrastructure: dev-static
          version: \(version)
        \(extra)
        """
    }

    func setReady(_ name: String, generation: Int64) async throws {
        let client = try server.client()
        let path = APIPaths.object(.serviceDeployment, namespace: "default", name: name) + "/status"
        let patch: JSONValue = ["status": ["observedGeneration": .int(generation), "conditions": [SampleObjects.readyCondition(generation: generation)]]]
        let response = try await client.send(.PATCH, path, body: patch.serialized(), contentType: "application/merge-patch+json")
        try await client.shutdown()
        #expect(response.status == 200)
    }

    @Test func applyGetWaitAndDeleteWithTheRealKubectl() async throws {
        defer { scratch.remove() }
        let file = try write("d.yaml", Self.deploymentYAML("churn-dev"))
        let applied = try await kubectl("apply", "-f", file)
        #expect(applied.status == 0, "\(applied.errors)")
        #expect(applied.output.contains("servicedeployment.apideployer.dev/churn-dev created"))
        #expect(try await kubectl("apply", "-f", file).output.contains("unchanged"))

        let table = try await kubectl("get", "servicedeployments")
        let header = table.output.split(separator: "\n").first.map(String.init) ?? ""
        for column in ["NAME", "SERVICE", "INFRASTRUCTURE", "READY", "REASON", "AGE"] { #expect(header.contains(column), "\(header)") }
        #expect(table.output.contains("churn-dev"))

        let yaml = try await kubectl("get", "sdep", "churn-dev", "-o", "yaml")
        #expect(yaml.output.contains("generation: 1"))
        #expect(yaml.output.contains("uid: "))

        let serverSide = try await kubectl("apply", "--server-side", "-f", try write("d2.yaml", Self.deploymentYAML("churn-dev", version: "v2")))
        #expect(serverSide.status == 0, "\(serverSide.errors)")
        #expect(serverSide.output.contains("serverside-applied"))

        // Ready observed at an older generation does not satisfy kubectl wait.
        try await setReady("churn-dev", generation: 1)
        let stale = try await kubectl("wait", "--for=condition=Ready", "sdep/churn-dev", "--timeout=2s")
        #expect(stale.status != 0)
        let waiting = try kubectlProcess(["wait", "--for=condition=Ready", "sdep/churn-dev", "--timeout=60s"])
        try await setReady("churn-dev", generation: 2)
        let met = await waiting.finish()
        #expect(met.status == 0, "\(met.errors)")
        #expect(met.output.contains("condition met"))

        // delete waits for finalizers.
        let held = try write("held.yaml", Self.deploymentYAML("held", extra: "") .replacingOccurrences(of: "  name: held", with: "  name: held\n  finalizers: [apideployer.dev/cleanup]"))
        #expect(try await kubectl("apply", "-f", held).status == 0)
        let client = try server.client()
        let objectPath = APIPaths.object(.serviceDeployment, namespace: "default", name: "held")
        let version = try JSONValue.parse(try await client.send(.GET, objectPath).body)["metadata"]?["resourceVersion"]?.stringValue ?? "0"
        let events = client.watch(
            APIPaths.collection(.serviceDeployment, namespace: "default"),
            query: ["fieldSelector": "metadata.name=held", "resourceVersion": version], timeout: .seconds(60))
        let deleting = try kubectlProcess(["delete", "sdep", "held"])
        for try await event in events where event["object"]?["metadata"]?["deletionTimestamp"] != nil { break }
        #expect(deleting.isRunning, "kubectl delete returned before the finalizer was removed")
        let release: JSONValue = ["metadata": ["finalizers": .array([])]]
        _ = try await client.send(.PATCH, objectPath, body: release.serialized(), contentType: "application/merge-patch+json")
        let deleted = await deleting.finish()
        #expect(deleted.status == 0, "\(deleted.errors)")
        #expect(try await client.send(.GET, objectPath).status == 404)
        try await client.shutdown()
        await server.stop()
    }

    @Test func strictValidationRefusesUnknownFieldsByName() async throws {
        defer { scratch.remove() }
        let bad = try write("bad.yaml", Self.deploymentYAML("bad", extra: "  colour: blue"))
        let result = try await kubectl("apply", "-f", bad)
        #expect(result.status != 0)
        #expect(result.errors.contains("spec.colour"), "\(result.errors)")
        #expect(result.errors.contains("unknown field"))
        let twoBlocks = try write("two.yaml", """
            apiVersion: apideployer.dev/v1alpha1
            kind: Infrastructure
            metadata: {name: both}
            spec:
              stage: development
              type: static
              static: {nodes: [{name: a, url: "http://127.0.0.1:1", adminKeySecretRef: {name: k, key: a}}]}
              kubernetes: {namespace: ns, image: img}
            """)
        let refused = try await kubectl("apply", "-f", twoBlocks)
        #expect(refused.status != 0)
        #expect(refused.errors.contains("spec.kubernetes"), "\(refused.errors)")
        #expect(try await kubectl("get", "infrastructures", "both").status != 0)
        await server.stop()
    }
}
