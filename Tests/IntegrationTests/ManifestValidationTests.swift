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
        let folders = ["manifests", "manifests/crds", "charts/apideployer/crds"]
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
