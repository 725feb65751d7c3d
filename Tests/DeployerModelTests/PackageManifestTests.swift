import DeployerModel
import Foundation
import Testing

@Suite struct PackageManifestTests {
    static func sharedExample() throws -> JSONValue {
        let file = RepositoryPaths.specExamples.appendingPathComponent("40-package-service.yaml")
        return try #require(try JSONValue.parseYAMLDocuments(String(contentsOf: file, encoding: .utf8)).first)
    }

    @Test func theSharedExampleValidatesAndNamesItsFiles() throws {
        let manifest = try ServicePackageManifest.validated(try Self.sharedExample(), files: nil)
        #expect(manifest.endpoints.map(\.type) == [.prediction, .pythonPrediction, .function, .sqlQuery, .datasetLookup])
        #expect(Set(manifest.referencedFiles.map(\.path)) == [
            "models/churn.onnx", "code/model.py", "code/functions.py", "requirements.txt", "data/customers.sqlite", "data/features.sqlite",
        ])
    }

    @Test func aMissingFileIsNamedWithItsField() throws {
        let files: Set<String> = ["models/churn.onnx", "code/model.py", "code/functions.py", "requirements.txt", "data/customers.sqlite"]
        do {
            _ = try ServicePackageManifest.validated(try Self.sharedExample(), files: files)
            Issue.record("a missing file was accepted")
        } catch let error as PackageManifestError {
            #expect(error.errors.map(\.field) == ["endpoints[4].lookup.database"])
            #expect(error.description.contains("data/features.sqlite"))
        }
    }

    @Test func badManifestsReportEveryProblem() throws {
        var document = try Self.sharedExample()
        var endpoints = document["endpoints"]!.arrayValue!
        endpoints[0]["model"] = "../outside.onnx"
        endpoints[1]["python"]?["class"] = nil
        endpoints[2]["type"] = "lambda"
        endpoints[3]["lookup"] = ["database": "x.sqlite", "table": "t", "keys": ["k"]]
        document["endpoints"] = .array(endpoints)
        document["colour"] = "red"
        do {
            _ = try ServicePackageManifest.validated(document, files: nil)
            Issue.record("an invalid manifest was accepted")
        } catch let error as PackageManifestError {
            let fields = Set(error.errors.map(\.field))
            #expect(fields == ["colour", "endpoints[0].model", "endpoints[2].type"])
        }
        var second = try Self.sharedExample()
        var secondEndpoints = second["endpoints"]!.arrayValue!
        secondEndpoints[1]["python"]?["class"] = nil
        secondEndpoints[3]["lookup"] = ["database": "x.sqlite", "table": "t", "keys": ["k"]]
        second["endpoints"] = .array(secondEndpoints)
        do {
            _ = try ServicePackageManifest.validated(second, files: nil)
            Issue.record("an invalid manifest was accepted")
        } catch let error as PackageManifestError {
            #expect(Set(error.errors.map(\.field)) == ["endpoints[1].python.class", "endpoints[3].lookup"])
        }
    }
}
