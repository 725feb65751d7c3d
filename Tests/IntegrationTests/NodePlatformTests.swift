import DeployerModel
import Foundation
import Testing

/// `node serve --platform`: the same node answers SageMaker's, Azure ML's, Vertex AI's and
/// Snowpark's serving contracts for the example model, with the predictions of its native API.
@Suite struct NodePlatformTests {
    static let rows: [JSONValue] = [
        ["tenure": 3, "plan": "basic", "monthly_charges": 70.5],
        ["tenure": 40, "plan": "pro", "monthly_charges": 20.0],
    ]

    func call(_ method: String, _ url: String, _ body: JSONValue? = nil, in scratch: Scratch) async throws -> (status: Int, body: JSONValue) {
        var arguments = ["curl", "-s", "-w", "\n%{http_code}", "-X", method, url]
        if let body { arguments += ["-H", "Content-Type: application/json", "-d", String(decoding: body.serialized(), as: UTF8.self)] }
        let lines = try await run("/usr/bin/env", arguments, in: scratch.url).output.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, (try? JSONValue.parse(Array(lines.dropLast().joined(separator: "\n").utf8))) ?? .null)
    }

    @Test(arguments: ["sagemaker", "azureml", "vertexai", "snowpark"])
    func thePlatformsContractGivesTheNativePredictions(platform: String) async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let archive = scratch.url.appendingPathComponent("churn-v1.zip").path
        let built = try await run(
            Products.apideployer, ["package", "build", Products.repository.appendingPathComponent("examples/packages/churn-v1").path, "-o", archive],
            in: scratch.url)
        #expect(built.status == 0, "\(built.errors)")
        let data = scratch.url.appendingPathComponent("node")
        let node = try ChildProcess(
            Products.apideployer, ["node", "serve", "--data-dir", data.path, "--port", "0", "--platform", platform, "--package", archive],
            environment: ["AIP_HEALTH_ROUTE": "/v1/health", "AIP_PREDICT_ROUTE": "/v1/predict"], directory: scratch.url)
        let started = try await node.waitForOutput(containing: "apinode: serving on ")
        let url = String(started[started.range(of: "serving on ")!.upperBound...].prefix { !$0.isWhitespace })

        var native: [JSONValue] = []
        for row in Self.rows {
            let answer = try await call("POST", "\(url)/public/api/v1/churn/predict-churn/predict", ["features": row], in: scratch)
            #expect(answer.status == 200)
            native.append(answer.body["result"] ?? .null)
        }
        #expect(native.allSatisfy { $0["prediction"] != nil })

        switch platform {
        case "sagemaker":
            #expect(try await call("GET", "\(url)/ping", in: scratch).status == 200)
            let answer = try await call("POST", "\(url)/invocations", ["features": Self.rows[0]], in: scratch)
            #expect(answer.status == 200 && answer.body["result"] == native[0])
        case "azureml":
            #expect(try await call("GET", "\(url)/health", in: scratch).status == 200)
            #expect(try await call("GET", "\(url)/ready", in: scratch).status == 200)
            let answer = try await call("POST", "\(url)/score", ["features": Self.rows[1]], in: scratch)
            #expect(answer.status == 200 && answer.body["result"] == native[1])
        case "vertexai":
            #expect(try await call("GET", "\(url)/v1/health", in: scratch).status == 200, "AIP_HEALTH_ROUTE is honoured")
            let answer = try await call("POST", "\(url)/v1/predict", ["instances": .array(Self.rows), "parameters": [:]], in: scratch)
            #expect(answer.status == 200 && answer.body["predictions"] == .array(native), "\(answer.body)")
            #expect(try await call("POST", "\(url)/v1/predict", ["rows": []], in: scratch).status == 400)
        default:
            #expect(try await call("GET", "\(url)/health", in: scratch).status == 200)
            let rows: JSONValue = .array(Self.rows.enumerated().map { index, row in [.int(Int64(index)), row] })
            let answer = try await call("POST", "\(url)/", ["data": rows], in: scratch)
            #expect(answer.status == 200 && answer.body["data"] == [[0, native[0]], [1, native[1]]], "\(answer.body)")
        }
        node.signal(SIGTERM)
        _ = await node.finish()
    }

    /// Builds churn-v1 and churn-v2 into `folder`; their sha256 digests.
    func buildBothVersions(into folder: URL, in scratch: Scratch) async throws -> [String: String] {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var digests: [String: String] = [:]
        for version in ["v1", "v2"] {
            let archive = folder.appendingPathComponent("churn-\(version).zip").path
            let built = try await run(
                Products.apideployer, ["package", "build", Products.repository.appendingPathComponent("examples/packages/churn-\(version)").path, "-o", archive],
                in: scratch.url)
            #expect(built.status == 0, "\(built.errors)")
            digests[version] = try await run("/usr/bin/env", ["sha256sum", archive], in: scratch.url).output.split(separator: " ").first.map(String.init)
        }
        return digests
    }

    /// The Snowpark image as the driver configures it: two versions fetched from their URLs,
    /// checked against their digests, split by weight inside the node; `X-Forced-Generation`
    /// reaches one version through the platform route.
    @Test func theSnowparkContainerServesTheGenerationsTheDeployerNames() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let packages = scratch.url.appendingPathComponent("packages")
        let digests = try await buildBothVersions(into: packages, in: scratch)
        let files = try ChildProcess("/usr/bin/env", ["python3", "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", packages.path], directory: scratch.url)
        let line = try await files.waitForOutput(containing: "Serving HTTP on")
        let port = line.firstMatch(of: /port (\d+)/).map { String($0.1) } ?? ""
        let generations: JSONValue = .array(["v1", "v2"].map { version in
            ["version": .string(version), "packageUrl": .string("http://127.0.0.1:\(port)/churn-\(version).zip"), "sha256": .string(digests[version] ?? ""), "weight": 50]
        })
        let node = try ChildProcess(
            Products.apideployer, ["node", "serve", "--data-dir", scratch.url.appendingPathComponent("node").path, "--port", "0", "--platform", "snowpark"],
            environment: ["APIDEPLOYER_GENERATIONS": String(decoding: generations.serialized(), as: UTF8.self)], directory: scratch.url)
        let started = try await node.waitForOutput(containing: "apinode: serving on ")
        let url = String(started[started.range(of: "serving on ")!.upperBound...].prefix { !$0.isWhitespace })
        #expect(try await call("GET", "\(url)/health", in: scratch).status == 200)
        var answers: [String: JSONValue] = [:]
        for version in ["v1", "v2"] {
            let native = try await run(
                "/usr/bin/env",
                ["curl", "-s", "-H", "X-Forced-Generation: \(version)", "-H", "Content-Type: application/json", "-d", String(decoding: JSONValue.object(["features": Self.rows[0]]).serialized(), as: UTF8.self),
                 "\(url)/public/api/v1/churn/predict-churn/predict"], in: scratch.url)
            let platform = try await run(
                "/usr/bin/env",
                ["curl", "-s", "-H", "X-Forced-Generation: \(version)", "-H", "Content-Type: application/json", "-d", String(decoding: JSONValue.object(["data": [[0, Self.rows[0]]]]).serialized(), as: UTF8.self),
                 "\(url)/"], in: scratch.url)
            let expected = try JSONValue.parse(Array(native.output.utf8))["result"]
            #expect(try JSONValue.parse(Array(platform.output.utf8))["data"] == [[0, expected ?? .null]], "\(platform.output)")
            answers[version] = expected
        }
        #expect(answers["v1"] != answers["v2"], "the two versions answer differently, so the forced route is shown to choose")
        node.signal(SIGTERM)
        _ = await node.finish()

        var entries = generations.arrayValue ?? []
        entries[0]["sha256"] = .string(String(repeating: "0", count: 64))
        let wrong = JSONValue.array(entries)
        let refused = try await run(
            Products.apideployer, ["node", "serve", "--data-dir", scratch.url.appendingPathComponent("node-2").path, "--platform", "snowpark"],
            environment: ["APIDEPLOYER_GENERATIONS": String(decoding: wrong.serialized(), as: UTF8.self)], in: scratch.url)
        #expect(refused.status != 0 && refused.errors.contains("has sha256"), "a package that is not the one named is refused: \(refused.errors)")
        // http.server keeps the SIGTERM mask the test runner gave it.
        files.signal(SIGKILL)
        _ = await files.finish()
    }

    /// The Vertex AI image: the package read from `AIP_STORAGE_URI` with the metadata server's
    /// token, then served on the AIP_* routes.
    @Test func theVertexContainerReadsItsPackageFromCloudStorage() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let storage = scratch.url.appendingPathComponent("storage")
        let digests = try await buildBothVersions(into: scratch.url.appendingPathComponent("built"), in: scratch)
        let object = storage.appendingPathComponent("models/churn/churn-v1-aaaa")
        try FileManager.default.createDirectory(at: object, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: scratch.url.appendingPathComponent("built/churn-v1.zip"), to: object.appendingPathComponent("package.zip"))
        let peer = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Peers/gcs_metadata_server.py").path
        let google = try ChildProcess("/usr/bin/env", ["python3", "-u", peer, storage.path], directory: scratch.url)
        let line = try await google.waitForOutput(containing: "serving on ")
        let host = String(line[line.range(of: "serving on ")!.upperBound...].prefix { !$0.isWhitespace })
        let node = try ChildProcess(
            Products.apideployer, ["node", "serve", "--data-dir", scratch.url.appendingPathComponent("node").path, "--port", "0", "--platform", "vertexai"],
            environment: [
                "AIP_STORAGE_URI": "gs://models/churn/churn-v1-aaaa/", "GCE_METADATA_HOST": host, "STORAGE_EMULATOR_HOST": "http://\(host)",
                "APIDEPLOYER_VERSION": "v1", "APIDEPLOYER_PACKAGE_SHA256": digests["v1"] ?? "",
            ], directory: scratch.url)
        let started = try await node.waitForOutput(containing: "apinode: serving on ")
        let url = String(started[started.range(of: "serving on ")!.upperBound...].prefix { !$0.isWhitespace })
        let answer = try await call("POST", "\(url)/predict", ["instances": [Self.rows[1]]], in: scratch)
        #expect(answer.status == 200 && answer.body["predictions"]?.arrayValue?.count == 1, "\(answer.body)")
        node.signal(SIGTERM)
        _ = await node.finish()
        google.signal(SIGTERM)
        _ = await google.finish()
    }

    @Test func aBatchPlatformRefusesAnEndpointThatIsNotAPrediction() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let archive = try await PythonNodeTests.package(in: scratch)
        let refused = try await run(
            Products.apideployer,
            ["node", "serve", "--data-dir", scratch.url.appendingPathComponent("node").path, "--platform", "vertexai", "--package", archive.path],
            in: scratch.url)
        #expect(refused.status != 0 && refused.errors.contains("scores prediction endpoints"), "\(refused.errors)")
    }
}
