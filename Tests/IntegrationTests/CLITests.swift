import CloudHTTP
import DeployerModel
import Foundation
import Testing

/// Our CLI against a real server: the GitOps loop of applying a folder again and again.
@Suite struct CLITests {
    func cli(_ server: ServerProcess, _ scratch: Scratch, _ arguments: [String]) async throws -> CommandResult {
        try await run(Products.apideployer, arguments + ["--kubeconfig", server.kubeconfigPath], in: scratch.url)
    }

    func versions(_ server: ServerProcess) async throws -> [String: (String, Int64)] {
        let client = try server.client()
        var result: [String: (String, Int64)] = [:]
        for kind in [ResourceKind.secret, .infrastructure, .publishedService, .serviceDeployment] {
            let list = try JSONValue.parse(try await client.send(.GET, APIPaths.collection(kind, namespace: "default")).body)
            for item in list["items"]?.arrayValue ?? [] {
                let metadata = item["metadata"]!
                result["\(kind.kind)/\(metadata["name"]!.stringValue!)"] = (metadata["resourceVersion"]!.stringValue!, metadata["generation"]!.intValue!)
            }
        }
        try await client.shutdown()
        return result
    }

    @Test func applyingTheQuickstartTwiceChangesNothingAndOneFieldBumpsOneGeneration() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let server = try await ServerProcess.start(dataDirectory: scratch.url.appendingPathComponent("data"))
        let quickstart = Products.repository.appendingPathComponent("examples/quickstart").path
        let first = try await cli(server, scratch, ["apply", "-f", quickstart])
        #expect(first.status == 0, "\(first.errors)")
        #expect(first.output.components(separatedBy: " created").count - 1 == 4)
        let before = try await versions(server)
        let second = try await cli(server, scratch, ["apply", "-f", quickstart])
        #expect(second.output.components(separatedBy: " unchanged").count - 1 == 4, "\(second.output)")
        let after = try await versions(server)
        #expect(before.mapValues(\.0) == after.mapValues(\.0))

        let edited = scratch.url.appendingPathComponent("quickstart")
        try FileManager.default.copyItem(atPath: quickstart, toPath: edited.path)
        let deployment = edited.appendingPathComponent("40-deployment.yaml")
        let text = try String(contentsOf: deployment, encoding: .utf8).replacingOccurrences(of: "ceil: 8", with: "ceil: 16")
        try text.write(to: deployment, atomically: true, encoding: .utf8)
        let third = try await cli(server, scratch, ["apply", "-f", edited.path])
        #expect(third.output.contains("servicedeployment.apideployer.dev/churn-dev configured"))
        let changed = try await versions(server)
        for (key, value) in before {
            let expectedGeneration = key == "ServiceDeployment/churn-dev" ? value.1 + 1 : value.1
            #expect(changed[key]?.1 == expectedGeneration, "\(key)")
        }
        await server.stop()
    }

    @Test func aFolderWithOneBadObjectAppliesNothing() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let server = try await ServerProcess.start(dataDirectory: scratch.url.appendingPathComponent("data"))
        let folder = scratch.url.appendingPathComponent("specs")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try SampleSpecs.good.write(to: folder.appendingPathComponent("a.yaml"), atomically: true, encoding: .utf8)
        try SampleSpecs.bad.write(to: folder.appendingPathComponent("b.yaml"), atomically: true, encoding: .utf8)
        let result = try await cli(server, scratch, ["apply", "-f", folder.path])
        #expect(result.status != 0)
        #expect(result.errors.contains("spec.version"), "\(result.errors)")
        #expect(result.errors.contains("nothing was applied"))
        let get = try await cli(server, scratch, ["get", "sdep", "good"])
        #expect(get.status != 0)

        try FileManager.default.removeItem(at: folder.appendingPathComponent("b.yaml"))
        #expect(try await cli(server, scratch, ["apply", "-f", folder.path]).status == 0)
        let diff = try await cli(server, scratch, ["diff", "-f", folder.path])
        #expect(diff.status == 0, "\(diff.output)")
        try SampleSpecs.good.replacingOccurrences(of: "version: v1", with: "version: v2")
            .write(to: folder.appendingPathComponent("a.yaml"), atomically: true, encoding: .utf8)
        let changedDiff = try await cli(server, scratch, ["diff", "-f", folder.path])
        #expect(changedDiff.status == 1)
        #expect(changedDiff.output.contains("+   version: v2"), "\(changedDiff.output)")
        await server.stop()
    }

    @Test func pruneDeletesLabelledObjectsTheFilesNoLongerHold() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let server = try await ServerProcess.start(dataDirectory: scratch.url.appendingPathComponent("data"))
        let file = scratch.url.appendingPathComponent("all.yaml")
        let labelled = { (name: String) in SampleSpecs.good.replacingOccurrences(of: "name: good", with: "name: \(name)\n  labels: {team: risk}") }
        try (labelled("one") + "\n---\n" + labelled("two")).write(to: file, atomically: true, encoding: .utf8)
        #expect(try await cli(server, scratch, ["apply", "-f", file.path, "--prune", "-l", "team=risk"]).status == 0)
        try labelled("one").write(to: file, atomically: true, encoding: .utf8)
        let pruned = try await cli(server, scratch, ["apply", "-f", file.path, "--prune", "-l", "team=risk"])
        #expect(pruned.output.contains("servicedeployment.apideployer.dev/two pruned"), "\(pruned.output)")
        let names = try await cli(server, scratch, ["get", "sdep", "-o", "name"])
        #expect(names.output == "servicedeployment.apideployer.dev/one\n")
        await server.stop()
    }
}

enum SampleSpecs {
    static let good = """
        apiVersion: apideployer.dev/v1alpha1
        kind: ServiceDeployment
        metadata:
          name: good
        spec:
          service: churn
          infrastructure: dev-static
          version: v1
        """
    static let bad = """
        apiVersion: apideployer.dev/v1alpha1
        kind: ServiceDeployment
        metadata:
          name: bad
        spec:
          service: churn
          infrastructure: dev-static
          version: [v1]
        """
}
