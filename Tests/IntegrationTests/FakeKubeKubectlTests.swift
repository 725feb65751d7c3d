import DeployerModel
import Foundation
import PlatformTesting
import Testing

/// The fake API server checked with the real kubectl and a fresh discovery cache: the command
/// sequence of reference section 9.6 — discovery, CRDs and our resources, client- and
/// server-side apply, the status subresource, a Deployment's rollout, finalizers and deletion,
/// garbage collection — and what the fake refuses as a real server would.
@Suite struct FakeKubeKubectlTests {
    @Test func kubectlWorksAgainstTheFakeAsAgainstARealServer() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let fake = FakeKubeCluster()
        try await FakeKubeAPIServer.with(fake) { url in
            let cluster = try KubernetesClusterTests.Cluster(url: url, scratch: scratch, namespace: "default")
            func file(_ name: String, _ text: String) throws -> String {
                let path = scratch.url.appendingPathComponent(name).path
                try text.write(toFile: path, atomically: true, encoding: .utf8)
                return path
            }

            let version = try await cluster.kubectl("version")
            #expect(version.status == 0 && version.output.contains("Server Version: v1.32.4"), "\(version.output) \(version.errors)")
            let apis = try await cluster.kubectl("get", "--raw", "/apis")
            #expect(try JSONValue.parse(Array(apis.output.utf8))["kind"] == "APIGroupList")
            let crds = try await cluster.kubectl("apply", "--validate=false", "-f", Products.repository.appendingPathComponent("manifests/crds").path)
            #expect(crds.status == 0, "\(crds.errors)")
            #expect(try await cluster.kubectl("wait", "--for=condition=Established", "crd/servicedeployments.apideployer.dev", "--timeout=10s").status == 0)
            let resources = try await cluster.kubectl("api-resources")
            #expect(resources.output.contains("servicedeployments") && resources.output.contains("deployments"), "discovery follows the CRDs: \(resources.errors)")

            // Client-side apply: create, then a three-way merge patch that bumps the generation.
            let v1 = try file("sdep.yaml", KubectlTests.deploymentYAML("churn-dev"))
            let created = try await cluster.kubectl("apply", "--validate=false", "-f", v1)
            #expect(created.status == 0 && created.output.contains("created"), "\(created.errors)")
            let listed = try await cluster.kubectl("get", "sdep")
            #expect(listed.output.contains("churn-dev"), "\(listed.output) \(listed.errors)")
            let object = try JSONValue.parse(Array(try await cluster.kubectl("get", "sdep", "churn-dev", "-o", "json").output.utf8))
            #expect(object["metadata"]?["generation"] == 1 && object["metadata"]?["uid"]?.stringValue?.isEmpty == false)
            #expect(object["metadata"]?["creationTimestamp"] != nil && object["metadata"]?["resourceVersion"] != nil)
            #expect(try await cluster.kubectl("apply", "--validate=false", "-f", v1).output.contains("unchanged"), "an empty diff sends nothing")
            let v2 = try file("sdep-v2.yaml", KubectlTests.deploymentYAML("churn-dev", version: "v2"))
            #expect(try await cluster.kubectl("apply", "--validate=false", "-f", v2).output.contains("configured"))
            #expect(try await cluster.kubectl("get", "sdep", "churn-dev", "-o", "jsonpath={.metadata.generation}").output == "2")
            let serverSide = try await cluster.kubectl("apply", "--server-side", "--validate=false", "-f", v2)
            #expect(serverSide.status == 0 && serverSide.output.contains("serverside-applied"), "\(serverSide.errors)")

            // The status subresource leaves spec and generation alone; wait reads the condition.
            let status = #"{"status":{"observedGeneration":2,"conditions":[{"type":"Ready","status":"True","reason":"Done","message":"ok","lastTransitionTime":"2026-01-01T00:00:00Z","observedGeneration":2}]}}"#
            #expect(try await cluster.kubectl("patch", "sdep", "churn-dev", "--subresource=status", "--type=merge", "-p", status).status == 0)
            #expect(try await cluster.kubectl("get", "sdep", "churn-dev", "-o", "jsonpath={.metadata.generation} {.spec.version}").output == "2 v2")
            #expect(try await cluster.kubectl("wait", "--for=condition=Ready", "sdep/churn-dev", "--timeout=10s").status == 0)

            // A Deployment: server defaults, a rollout the simulated controller completes, its pods.
            let web = try file("web.yaml", """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web}
                spec:
                  replicas: 2
                  selector: {matchLabels: {app: web}}
                  template:
                    metadata: {labels: {app: web}}
                    spec: {containers: [{name: web, image: "nginx:1.27", ports: [{containerPort: 80}]}]}
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: web}
                spec: {selector: {app: web}, ports: [{port: 80}]}
                """)
            #expect(try await cluster.kubectl("apply", "--validate=false", "-f", web).status == 0)
            let rollout = try await cluster.kubectl("rollout", "status", "deployment/web", "--timeout=30s")
            #expect(rollout.status == 0 && rollout.output.contains("successfully rolled out"), "\(rollout.output) \(rollout.errors)")
            let defaults = try await cluster.kubectl(
                "get", "deployment", "web", "-o", "jsonpath={.spec.strategy.rollingUpdate.maxSurge} {.spec.template.spec.containers[0].imagePullPolicy}")
            #expect(defaults.output == "25% IfNotPresent")
            #expect(try await cluster.kubectl("get", "service", "web", "-o", "jsonpath={.spec.clusterIP}").output.hasPrefix("10.96."))
            #expect(try await cluster.kubectl("get", "pods", "-l", "app=web", "-o", "name").output.split(separator: "\n").count == 2)
            #expect(try await cluster.kubectl("apply", "--validate=false", "-f", web).output.contains("unchanged"), "defaults do not look like a diff")
            #expect(try await cluster.kubectl("delete", "deployment", "web").status == 0)
            #expect(try await cluster.kubectl("get", "pods", "-l", "app=web", "-o", "name").output.isEmpty, "the pods went with their Deployment")

            // Finalizers hold a deleted object until they are removed.
            #expect(try await cluster.kubectl("patch", "sdep", "churn-dev", "--type=merge", "-p", #"{"metadata":{"finalizers":["example.com/cleanup"]}}"#).status == 0)
            #expect(try await cluster.kubectl("delete", "sdep", "churn-dev", "--wait=false").status == 0)
            #expect(try await cluster.kubectl("get", "sdep", "churn-dev", "-o", "jsonpath={.metadata.deletionTimestamp}").output.isEmpty == false)
            #expect(try await cluster.kubectl("patch", "sdep", "churn-dev", "--type=json", "-p", #"[{"op":"remove","path":"/metadata/finalizers"}]"#).status == 0)
            #expect(try await cluster.kubectl("wait", "--for=delete", "sdep/churn-dev", "--timeout=10s").status == 0)

            // Refusals: a protobuf body (kubectl create configmap), an invalid spec with the field named.
            let protobuf = try await cluster.kubectl("create", "configmap", "c1", "--from-literal=k=v")
            #expect(protobuf.status != 0 && protobuf.errors.contains("unknown format"), "\(protobuf.errors)")
            let invalid = try file("bad.yaml", KubectlTests.deploymentYAML("bad", extra: "  enabled: \"yes\""))
            let refused = try await cluster.kubectl("apply", "--validate=false", "-f", invalid)
            #expect(refused.status != 0 && refused.errors.contains("spec.enabled"), "\(refused.errors)")
            let log = await fake.requestLog
            #expect(log.contains { $0.hasPrefix("PATCH /apis/apideployer.dev/v1alpha1/namespaces/default/servicedeployments/churn-dev?") && $0.contains("fieldManager=kubectl") && $0.contains("force=false") })
        }
    }
}
