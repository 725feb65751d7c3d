import DeployerModel
import Foundation
import Testing

/// Every Kubernetes object in `manifests/` and the chart's CRDs pass `kubernetes-validate
/// --strict` offline against Kubernetes 1.32's schemas. Objects of cert-manager (no schema
/// bundled) are reported and listed in docs/kubernetes.md as not checked here; our custom
/// resources (samples) are validated by the API's own rules in DeployerModelTests.
@Suite struct ManifestValidationTests {
    @Test func manifestsAndChartCRDsValidateOffline() async throws {
        let python = try await run("/usr/bin/env", ["bash", "hack/python-env.sh", "hack/requirements-kubernetes.txt"], in: Products.repository)
            .output.trimmingCharacters(in: .whitespacesAndNewlines)
        let folders = ["manifests", "manifests/crds", "manifests/argocd", "charts/apideployer/crds"]
        var files: [String] = []
        for folder in folders {
            let url = Products.repository.appendingPathComponent(folder)
            files += try FileManager.default.contentsOfDirectory(atPath: url.path).filter { $0.hasSuffix(".yaml") }.sorted().map { "\(folder)/\($0)" }
        }
        #expect(files.count >= 17)
        let result = try await run(python, ["-m", "kubernetes_validate", "--strict", "-k", "1.32.0"] + files, in: Products.repository)
        let lines = (result.output + result.errors).split(separator: "\n").map(String.init)
        #expect(result.status == 0, "\(lines.filter { !$0.hasPrefix("INFO") })")
        let passed = lines.filter { $0.contains(" passed for resource ") }
        let unchecked = lines.filter { $0.hasPrefix("WARN") }
        let documents = try files.flatMap { file in
            try JSONValue.parseYAMLDocuments(try String(contentsOf: Products.repository.appendingPathComponent(file), encoding: .utf8))
        }
        let kubernetesObjects = documents.filter { $0["apiVersion"]?.stringValue?.hasPrefix("cert-manager.io/") == false }
        #expect(kubernetesObjects.count >= 22 && passed.count == kubernetesObjects.count, "every Kubernetes object passed: \(passed.count) of \(kubernetesObjects.count)")
        #expect(unchecked.allSatisfy { $0.contains("cert-manager.io/v1") }, "only cert-manager's kinds lack a schema: \(unchecked)")
        #expect(!lines.contains { $0.contains("failed") || $0.hasPrefix("ERROR") })
    }

    /// The Argo CD health checks (`manifests/argocd`), run as Argo CD runs them (Lua with a global
    /// `obj`), read our conditions as documented; the ConfigMap carries exactly the scripts.
    @Test func argoCDHealthChecksReadOurConditions() async throws {
        let folder = Products.repository.appendingPathComponent("manifests/argocd")
        let configMap = try #require(try JSONValue.parseYAMLDocuments(try String(contentsOf: folder.appendingPathComponent("argocd-cm.yaml"), encoding: .utf8)).first)
        for (kind, file) in [("ServiceDeployment", "servicedeployment-health.lua"), ("Infrastructure", "infrastructure-health.lua")] {
            let script = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            #expect(configMap["data"]?["resource.customizations.health.apideployer.dev_\(kind)"]?.stringValue == script, "argocd-cm.yaml carries \(file)")
        }
        func condition(_ type: String, _ status: String, _ reason: String = "Reason", _ message: String = "") -> JSONValue {
            ["type": .string(type), "status": .string(status), "reason": .string(reason), "message": .string(message)]
        }
        func object(generation: Int64, observed: Int64?, _ conditions: [JSONValue]) -> JSONValue {
            var object: JSONValue = ["metadata": ["name": "churn-prod", "generation": .int(generation)]]
            if let observed { object["status"] = ["observedGeneration": .int(observed), "conditions": .array(conditions)] }
            return object
        }
        let deployments: [(JSONValue, String)] = [
            (object(generation: 1, observed: nil, []), "Progressing"),
            (object(generation: 2, observed: 1, [condition("Ready", "True")]), "Progressing"),
            (object(generation: 2, observed: 2, [condition("Ready", "True", "RolloutComplete", "v2 active"), condition("Reconciling", "False"), condition("Stalled", "False")]), "Healthy"),
            (object(generation: 2, observed: 2, [condition("Ready", "False"), condition("Reconciling", "False"), condition("Stalled", "True", "TestQueryFailed", "expected 1")]), "Degraded"),
            (object(generation: 2, observed: 2, [condition("Ready", "False"), condition("Reconciling", "True"), condition("Degraded", "True", "TargetsUnavailable")]), "Degraded"),
            (object(generation: 2, observed: 2, [condition("Ready", "False"), condition("Reconciling", "True", "Staging"), condition("Stalled", "False")]), "Progressing"),
        ]
        let infrastructures: [(JSONValue, String)] = [
            (object(generation: 1, observed: nil, []), "Progressing"),
            (object(generation: 1, observed: 1, [condition("Ready", "True"), condition("Degraded", "False")]), "Healthy"),
            (object(generation: 1, observed: 1, [condition("Ready", "False", "NoTargetHealthy")]), "Degraded"),
        ]
        let python = try await run("/usr/bin/env", ["bash", "hack/python-env.sh", "hack/requirements-kubernetes.txt"], in: Products.repository)
            .output.trimmingCharacters(in: .whitespacesAndNewlines)
        let peer = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Peers/argocd_health.py").path
        for (file, cases) in [("servicedeployment-health.lua", deployments), ("infrastructure-health.lua", infrastructures)] {
            let input = String(decoding: JSONValue.array(cases.map(\.0)).serialized(), as: UTF8.self)
            let result = try await run(python, [peer, folder.appendingPathComponent(file).path], in: Products.repository, input: input)
            let health = try JSONValue.parse(Array(result.output.utf8)).arrayValue ?? []
            #expect(health.map { $0["status"]?.stringValue ?? "" } == cases.map(\.1), "\(file): \(result.errors)")
        }
    }

    @Test func theChartDeclaresItsValues() throws {
        let chart = Products.repository.appendingPathComponent("charts/apideployer")
        let metadata = try #require(try JSONValue.parseYAMLDocuments(try String(contentsOf: chart.appendingPathComponent("Chart.yaml"), encoding: .utf8)).first)
        #expect(metadata["apiVersion"] == "v2" && metadata["name"] == "apideployer")
        let values = try #require(try JSONValue.parseYAMLDocuments(try String(contentsOf: chart.appendingPathComponent("values.yaml"), encoding: .utf8)).first)
        #expect(values["replicaCount"] == 2 && values["webhook"]?["failurePolicy"] == "Fail")
        #expect(values["securityContext"]?["readOnlyRootFilesystem"] == true && values["podSecurityContext"]?["runAsNonRoot"] == true)
        let templates = try String(contentsOf: chart.appendingPathComponent("templates/deployment.yaml"), encoding: .utf8)
        for key in ["replicaCount", "image.repository", "healthPort", "webhook.port", "resources", "securityContext", "podSecurityContext", "leaderElection.leaseName"] {
            #expect(templates.contains(".Values.\(key)"), "values.\(key) is used by the templates")
        }
    }
}
