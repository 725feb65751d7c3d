import APINode
import DeployerModel
import Foundation
import Testing

/// Generations are imported atomically, mappings persist, and a restart serves the same.
@Suite struct NodeRuntimeTests {
    static func archive(version: String, service: String = "churn", coefficients: String = "[1.0, 2.0]") throws -> URL {
        let model = PackageTests.scalerModel.replacingOccurrences(of: "coefficients=[1.0, 2.0]", with: "coefficients=\(coefficients)")
        let manifest = PackageTests.manifest.replacingOccurrences(of: "version: v1", with: "version: \(version)")
            .replacingOccurrences(of: "service: churn", with: "service: \(service)")
        let folder = try PackageTests.packageFolder(model: model, manifest: manifest)
        let url = folder.deletingLastPathComponent().appendingPathComponent("\(UUID().uuidString).zip")
        try PackageArchive.build(folder: folder, to: url)
        return url
    }

    func predict(_ runtime: NodeRuntime) async -> JSONValue? {
        var generator = SplitMix64(seed: 5)
        let answer = await PublicAPI().handle(
            runtime.table, service: "churn", endpoint: "predict-churn", verb: "predict",
            body: Array(#"{"features":{"tenure":3,"charges":6}}"#.utf8), query: [:], using: &generator)
        return answer.body["result"]?["prediction"]
    }

    @Test func importMapSwitchAndRestart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("node-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let runtime = try NodeRuntime(dataDirectory: directory)
        try await runtime.createService("churn")
        await #expect(throws: NodeError.conflict("service \"churn\" already exists")) { try await runtime.createService("churn") }
        try await runtime.importGeneration(service: "churn", archive: try Self.archive(version: "v1"))
        #expect(await predict(runtime) == nil, "an imported generation is available, not active")
        try await runtime.switchTo(service: "churn", generation: nil)
        #expect(await predict(runtime) == .double(3.5))

        try await runtime.importGeneration(service: "churn", archive: try Self.archive(version: "v2", coefficients: "[2.0, 4.0]"))
        #expect(await predict(runtime) == .double(3.5), "v1 stays active until the mapping changes")
        try await runtime.setMapping(service: "churn", .single("v2"))
        #expect(await predict(runtime) == .double(6.5))

        let restarted = try NodeRuntime(dataDirectory: directory)
        #expect(await predict(restarted) == .double(6.5))
        #expect(await restarted.services().map(\.generations.count) == [2])
    }

    @Test func refusedImportsChangeNothing() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("node-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let runtime = try NodeRuntime(dataDirectory: directory)
        try await runtime.createService("churn")
        try await runtime.importGeneration(service: "churn", archive: try Self.archive(version: "v1"))
        try await runtime.switchTo(service: "churn", generation: "v1")
        await #expect(throws: NodeError.self) { try await runtime.importGeneration(service: "churn", archive: try Self.archive(version: "v1")) }
        await #expect(throws: NodeError.self) {
            try await runtime.importGeneration(service: "churn", archive: try Self.archive(version: "v3", service: "other"))
        }
        let garbage = directory.appendingPathComponent("garbage.zip")
        try Data("not a zip".utf8).write(to: garbage)
        await #expect(throws: NodeError.self) { try await runtime.importGeneration(service: "churn", archive: garbage) }
        await #expect(throws: NodeError.self) { try await runtime.setMapping(service: "churn", .single("v9")) }
        #expect(await predict(runtime) == .double(3.5))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("services/churn").path)
        #expect(leftovers.sorted() == ["generations", "service.json"])
    }
}
