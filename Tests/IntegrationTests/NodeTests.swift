import DeployerModel
import Foundation
import Testing

/// The API node as a real process, driven over HTTP with curl the way an existing client would.
@Suite struct NodeTests {
    /// Builds a one-endpoint package with a small regression model made by the pinned onnx;
    /// `paddingBytes` of random data in `data/padding.bin` make it slow to upload and import.
    static func buildPackage(in scratch: Scratch, version: String, slope: String, paddingBytes: Int = 0) async throws -> URL {
        let folder = scratch.url.appendingPathComponent("package-\(version)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("models"), withIntermediateDirectories: true)
        if paddingBytes > 0 {
            try FileManager.default.createDirectory(at: folder.appendingPathComponent("data"), withIntermediateDirectories: true)
            var generator = SystemRandomNumberGenerator()
            try Data((0..<paddingBytes / 8).flatMap { _ in withUnsafeBytes(of: generator.next()) { Array($0) } })
                .write(to: folder.appendingPathComponent("data/padding.bin"))
        }
        try """
            apiVersion: apideployer.dev/v1alpha1
            kind: ServicePackage
            service: churn
            version: \(version)
            endpoints:
              - id: predict-churn
                type: prediction
                model: models/model.onnx
                features: [tenure, charges]
            """.write(to: folder.appendingPathComponent("service.yaml"), atomically: true, encoding: .utf8)
        let script = scratch.url.appendingPathComponent("make-\(version).py")
        try """
            import onnx, sys
            from onnx import helper, TensorProto
            node = helper.make_node("LinearRegressor", ["x"], ["variable"], domain="ai.onnx.ml", coefficients=[\(slope), 1.0], intercepts=[0.0])
            graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2])],
                                      [helper.make_tensor_value_info("variable", TensorProto.FLOAT, [None, 1])])
            onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)]), sys.argv[1])
            """.write(to: script, atomically: true, encoding: .utf8)
        let python = try await run("/usr/bin/env", ["bash", Products.repository.appendingPathComponent("hack/python-env.sh").path], in: scratch.url)
            .output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try await run(python, [script.path, folder.appendingPathComponent("models/model.onnx").path], in: scratch.url).status == 0)
        let archive = scratch.url.appendingPathComponent("churn-\(version).zip")
        let built = try await run(Products.apideployer, ["package", "build", folder.path, "-o", archive.path], in: scratch.url)
        #expect(built.status == 0, "\(built.errors)")
        return archive
    }

    static func number(_ value: JSONValue?) -> Double? {
        switch value {
        case .int(let number)?: Double(number)
        case .double(let number)?: number
        default: nil
        }
    }

    func curl(_ arguments: [String], in scratch: Scratch) async throws -> (status: Int, body: JSONValue?) {
        let result = try await run("/usr/bin/env", ["curl", "-s", "-w", "\n%{http_code}"] + arguments, in: scratch.url)
        let lines = result.output.split(separator: "\n", omittingEmptySubsequences: false)
        let status = Int(lines.last ?? "") ?? 0
        let body = lines.dropLast().joined(separator: "\n")
        return (status, try? JSONValue.parse(body))
    }

    @Test func initUploadSwitchAndPredictOverRealSockets() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let data = scratch.url.appendingPathComponent("node")
        #expect(try await run(Products.apideployer, ["node", "init", data.path], in: scratch.url).status == 0)
        let key = try await run(data.appendingPathComponent("bin/apinode-admin").path, ["admin-key-create"], in: scratch.url)
            .output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!key.isEmpty)
        let node = try ChildProcess(Products.apideployer, ["node", "serve", "--data-dir", data.path, "--port", "0"], directory: scratch.url)
        let started = try await node.waitForOutput(containing: "apinode: serving on ")
        let url = String(started[started.range(of: "serving on ")!.upperBound...].prefix { !$0.isWhitespace })
        let admin = ["-u", "\(key):"]

        #expect(try await curl(admin + ["-X", "POST", "\(url)/admin/api/services/", "-d", #"{"serviceId":"churn"}"#], in: scratch).status == 200)
        for (version, slope) in [("v1", "1.0"), ("v2", "10.0")] {
            let archive = try await Self.buildPackage(in: scratch, version: version, slope: slope)
            let digest = try await run("/usr/bin/env", ["sha256sum", archive.path], in: scratch.url).output.prefix(64)
            let wrongDigest = try await curl(admin + ["-X", "PUT", "-H", "X-Content-SHA256: \(String(repeating: "0", count: 64))",
                "--data-binary", "@\(archive.path)", "\(url)/admin/api/services/churn/generations/\(version)/archive"], in: scratch)
            #expect(wrongDigest.status == 400)
            let uploaded = try await curl(admin + ["-X", "PUT", "-H", "X-Content-SHA256: \(digest)", "--data-binary", "@\(archive.path)",
                "\(url)/admin/api/services/churn/generations/\(version)/archive"], in: scratch)
            #expect(uploaded.status == 200, "\(String(describing: uploaded.body))")
        }
        let predict = ["-X", "POST", "\(url)/public/api/v1/churn/predict-churn/predict", "-d", #"{"features":{"tenure":2,"charges":3}}"#]
        #expect(try await curl(predict, in: scratch).status == 503, "no generation is active before a mapping")
        #expect(try await curl(admin + ["-X", "POST", "\(url)/admin/api/services/churn/actions/switchTo/v1"], in: scratch).status == 200)
        #expect(Self.number(try await curl(predict, in: scratch).body?["result"]?["prediction"]) == 5)
        // The answer's fields as sent: the reference's version headers, the caller's request id
        // and the body's length.
        let sent = try await run("/usr/bin/env", ["curl", "-s", "-i", "-H", "X-Request-ID: caller-7"] + predict, in: scratch.url).output
        let (head, body) = try #require(sent.range(of: "\r\n\r\n").map { (sent[..<$0.lowerBound], sent[$0.upperBound...]) })
        let fields = Dictionary(head.split(separator: "\r\n").dropFirst().map { line in
            let parts = line.split(separator: ":", maxSplits: 1)
            return (parts[0].lowercased(), parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : "")
        }, uniquingKeysWith: { first, _ in first })
        #expect(fields["dss-api-version"] == "v1")
        #expect(fields["dss-version"]?.hasPrefix("apideployer-") == true)
        #expect(fields["content-type"] == "application/json")
        #expect(fields["x-request-id"] == "caller-7")
        #expect(fields["content-length"] == String(body.utf8.count))
        let mapping = #"{"strategy":"HASH_BASED","entries":[{"generation":"v1","proba":0.5},{"generation":"v2","proba":0.5}]}"#
        #expect(try await curl(admin + ["-X", "POST", "\(url)/admin/api/services/churn/actions/setMapping", "-d", mapping], in: scratch).status == 200)
        #expect(try await curl(predict, in: scratch).status == 400, "a hash-mapped service needs a dispatch key")
        let forced = try await curl(["-X", "POST", "\(url)/public/api/v1/churn/predict-churn/predict",
            "-d", #"{"features":{"tenure":2,"charges":3},"dispatch":{"forcedGeneration":"v2"}}"#], in: scratch)
        #expect(Self.number(forced.body?["result"]?["prediction"]) == 23)
        #expect(forced.body?["apiContext"]?["serviceGeneration"] == "v2")
        let tuningURL = "\(url)/admin/api/services/churn/endpoints/predict-churn/tuning"
        let tuning = #"{"floor":1,"ceil":4,"cruise":2,"queue":16,"timeoutMs":500}"#
        #expect(try await curl(admin + ["-X", "PUT", tuningURL, "-d", tuning], in: scratch).status == 200)
        #expect(try await curl(admin + ["-X", "PUT", tuningURL, "-d", #"{"floor":1,"ceil":0,"cruise":2,"queue":16,"timeoutMs":500}"#], in: scratch).status == 400)
        let stored = try JSONValue.parse(Array(try Data(contentsOf: data.appendingPathComponent("services/churn/service.json"))))
        #expect(stored["tuning"]?["predict-churn"]?["ceil"] == 4)
        let generations = try await curl(admin + ["\(url)/admin/api/services/churn/generations"], in: scratch)
        #expect(generations.body?["generations"]?.arrayValue?.count == 2)
        #expect(try await curl(["-u", "wrong:", "\(url)/admin/api/services"], in: scratch).status == 401)
        #expect(try await curl(["\(url)/isAlive/"], in: scratch).status == 200)
        #expect(FileManager.default.createFile(atPath: data.appendingPathComponent("apinode-not-alive.txt").path, contents: nil))
        #expect(try await curl(["\(url)/isAlive/"], in: scratch).status == 503)

        let huge = scratch.url.appendingPathComponent("huge.json")
        try Data(repeating: UInt8(ascii: " "), count: 17 * 1024 * 1024).write(to: huge)
        let tooLarge = try await curl(["-X", "POST", "\(url)/public/api/v1/churn/predict-churn/predict", "--data-binary", "@\(huge.path)"], in: scratch)
        #expect(tooLarge.status == 413)
        let metrics = try await run("/usr/bin/env", ["curl", "-s", "\(url)/metrics"], in: scratch.url).output
        #expect(metrics.contains("apinode_queries_total{"), "\(metrics.prefix(300))")
        #expect(metrics.split(separator: "\n").contains { $0.contains("service=\"churn\"") && $0.contains("generation=\"v2\"") && $0.contains("code=\"200\"") })

        // Stopping drains the query log; every query is one JSON line with its generation.
        node.signal(SIGTERM)
        _ = await node.finish()
        let logs = data.appendingPathComponent("logs")
        let files = try FileManager.default.contentsOfDirectory(atPath: logs.path)
        let lines = try files.flatMap { try String(contentsOf: logs.appendingPathComponent($0), encoding: .utf8).split(separator: "\n") }
        let events = try lines.map { try JSONValue.parse(String($0)) }
        #expect(events.count == 5, "one event per public query")
        #expect(events.contains { $0["requestId"] == "caller-7" }, "the caller's request id is the event's")
        #expect(events.allSatisfy { $0["msgType"] == "prediction-query" && $0["requestId"]?.stringValue?.isEmpty == false })
        #expect(events.allSatisfy { ($0["timestamp"]?.stringValue ?? "").hasSuffix("Z") }, "timestamps carry their time zone")
        #expect(events.contains { $0["generation"] == "v2" && $0["features"]?["tenure"] == 2 })
        #expect(events.contains { $0["status"] == 400 })

        // A restart serves the same mapping.
        let restarted = try ChildProcess(Products.apideployer, ["node", "serve", "--data-dir", data.path, "--port", "0"], directory: scratch.url)
        let again = try await restarted.waitForOutput(containing: "apinode: serving on ")
        let newURL = String(again[again.range(of: "serving on ")!.upperBound...].prefix { !$0.isWhitespace })
        let afterRestart = try await curl(["-X", "POST", "\(newURL)/public/api/v1/churn/predict-churn/predict",
            "-d", #"{"features":{"tenure":2,"charges":3},"dispatch":{"forcedGeneration":"v2"}}"#], in: scratch)
        #expect(Self.number(afterRestart.body?["result"]?["prediction"]) == 23)
        restarted.signal(SIGTERM)
        _ = await restarted.finish()
    }
}
