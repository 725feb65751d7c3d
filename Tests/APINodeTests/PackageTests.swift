import APINode
import DeployerModel
import Foundation
import ModelRuntime
import Testing

/// Packages are built deterministically and validated completely before anything uses them.
@Suite struct PackageTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A folder with a service.yaml and a model made by a Python snippet (`model` set by `script`).
    static func packageFolder(model script: String, manifest: String) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pkg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("models"), withIntermediateDirectories: true)
        try manifest.write(to: folder.appendingPathComponent("service.yaml"), atomically: true, encoding: .utf8)
        let program = """
            import onnx, sys
            from onnx import helper, TensorProto
            \(script)
            onnx.save(model, sys.argv[1])
            """
        let scriptURL = folder.appendingPathComponent(".make_model.py")
        try program.write(to: scriptURL, atomically: true, encoding: .utf8)
        try python([scriptURL.path, folder.appendingPathComponent("models/model.onnx").path])
        return folder
    }

    /// The Python of the pinned test peers (scikit-learn and the ONNX converters).
    static func testPython() throws -> String {
        let environment = Process()
        environment.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        environment.arguments = ["bash", repository.appendingPathComponent("hack/python-env.sh").path]
        let pipe = Pipe()
        environment.standardOutput = pipe
        try environment.run()
        let interpreter = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        _ = environment.waitForExitStatus()
        return interpreter
    }

    static func python(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try testPython())
        process.arguments = arguments
        try process.run()
        #expect(process.waitForExitStatus() == 0)
    }

    static let scalerModel = """
        node = helper.make_node("Scaler", ["x"], ["y"], domain="ai.onnx.ml", offset=[1.0, 2.0], scale=[0.5, 0.25])
        reg = helper.make_node("LinearRegressor", ["y"], ["variable"], domain="ai.onnx.ml", coefficients=[1.0, 2.0], intercepts=[0.5])
        graph = helper.make_graph([node, reg], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2])],
                                  [helper.make_tensor_value_info("variable", TensorProto.FLOAT, [None, 1])])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)])
        """

    static let manifest = """
        apiVersion: apideployer.dev/v1alpha1
        kind: ServicePackage
        service: churn
        version: v1
        endpoints:
          - id: predict-churn
            type: prediction
            model: models/model.onnx
            features: [tenure, charges]
        """

    @Test func buildingTwiceGivesTheSameDigestAndTheArchiveValidates() throws {
        let folder = try Self.packageFolder(model: Self.scalerModel, manifest: Self.manifest)
        defer { try? FileManager.default.removeItem(at: folder) }
        let first = folder.deletingLastPathComponent().appendingPathComponent("\(UUID().uuidString).zip")
        let second = folder.deletingLastPathComponent().appendingPathComponent("\(UUID().uuidString).zip")
        defer { try? FileManager.default.removeItem(at: first); try? FileManager.default.removeItem(at: second) }
        try PackageArchive.build(folder: folder, to: first)
        try PackageArchive.build(folder: folder, to: second)
        #expect(try PackageArchive.sha256(of: first) == PackageArchive.sha256(of: second))

        let extracted = folder.deletingLastPathComponent().appendingPathComponent("x-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: extracted) }
        try PackageArchive.extract(first, to: extracted)
        #expect(try PackageArchive.regularFiles(in: extracted) == ["models/model.onnx", "service.yaml"])
        let package = try PackageValidator.validate(folder: extracted)
        let endpoint = try #require(package.models["predict-churn"])
        let inputs = try endpoint.features.inputs(for: [["tenure": .number(3), "charges": .number(6)]])
        let prediction = try endpoint.reader.predictions(from: try endpoint.model.evaluate(inputs), rows: 1)
        // (3 - 1) * 0.5 * 1 + (6 - 2) * 0.25 * 2 + 0.5 = 3.5
        #expect(prediction.first?.prediction == .number(3.5))
    }

    @Test func anUnsupportedOperatorIsRefusedNamingEndpointFileAndOperator() throws {
        let folder = try Self.packageFolder(model: """
            node = helper.make_node("Einsum", ["x", "x"], ["y"], name="mixer", equation="ij,ij->ij")
            graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2])],
                                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 2])])
            model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
            """, manifest: Self.manifest)
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(throws: PackageError.invalidEndpoint(
            endpoint: "predict-churn", file: "models/model.onnx", reason: "unsupported operator ai.onnx:Einsum (node \"mixer\")")) {
            try PackageValidator.validate(folder: folder)
        }
    }

    @Test func aMissingFileOrABadManifestIsRefusedWithTheField() throws {
        let folder = try Self.packageFolder(model: Self.scalerModel, manifest: Self.manifest.replacingOccurrences(of: "models/model.onnx", with: "models/other.onnx"))
        defer { try? FileManager.default.removeItem(at: folder) }
        let error = #expect(throws: PackageError.self) { try PackageValidator.validate(folder: folder) }
        let message = error.map { "\($0)" } ?? ""
        #expect(message.contains("endpoints[0].model"))
        #expect(message.contains("models/other.onnx"))
    }

    @Test func archivesThatEscapeTheFolderOrAreNotZipsAreRefused() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("evil-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let evil = folder.appendingPathComponent("evil.zip")
        let script = folder.appendingPathComponent("make.py")
        try """
            import sys, zipfile
            with zipfile.ZipFile(sys.argv[1], "w") as z:
                z.writestr("service.yaml", "x")
                z.writestr("../escaped.txt", "gotcha")
            """.write(to: script, atomically: true, encoding: .utf8)
        try Self.python([script.path, evil.path])
        let target = folder.appendingPathComponent("out")
        #expect(throws: PackageError.self) { try PackageArchive.extract(evil, to: target) }
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("escaped.txt").path))
        let notZip = folder.appendingPathComponent("plain.zip")
        try Data("hello".utf8).write(to: notZip)
        #expect(throws: PackageError.notAZip("plain.zip")) { try PackageArchive.extract(notZip, to: target) }
    }
}
