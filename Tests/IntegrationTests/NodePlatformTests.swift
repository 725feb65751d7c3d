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
