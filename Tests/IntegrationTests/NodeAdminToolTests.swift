import DeployerModel
import Foundation
import Testing

/// Every `apinode-admin` command, with the node stopped (on the data directory) and running
/// (through its admin API).
@Suite struct NodeAdminToolTests {
    @Test func everyCommandStoppedAndRunning() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let data = scratch.url.appendingPathComponent("node")
        #expect(try await run(Products.apideployer, ["node", "init", data.path], in: scratch.url).status == 0)
        let tool = data.appendingPathComponent("bin/apinode-admin").path
        func admin(_ arguments: String..., input: String? = nil) async throws -> CommandResult {
            try await run(tool, arguments, in: scratch.url, input: input)
        }
        let v1 = try await NodeTests.buildPackage(in: scratch, version: "v1", slope: "1.0")
        let v2 = try await NodeTests.buildPackage(in: scratch, version: "v2", slope: "10.0")
        let features = #"{"features":{"tenure":2,"charges":3}}"#

        // Stopped: the tool works on the data directory.
        #expect(try await admin("service-create", "churn").status == 0)
        #expect(try await admin("service-import-generation", "churn", v1.path).status == 0)
        #expect(try await admin("service-list-generations", "churn").output.contains("v1"))
        #expect(try await admin("service-switch-to-newest", "churn").status == 0)
        #expect(try await admin("predict", "churn", "predict-churn", input: features).output.contains("\"prediction\" : 5"))
        #expect(try await admin("services-list").output.contains("\"serviceId\" : \"churn\""))
        #expect(try await admin("metrics-get").output.contains("\"generations\" : 1"))
        #expect(try await admin("service-create", "churn").status != 0, "a second create is refused")

        // Running: the same commands go through the admin API, and the node sees them at once.
        let key = try await admin("admin-key-create").output.trimmingCharacters(in: .whitespacesAndNewlines)
        let node = try ChildProcess(Products.apideployer, ["node", "serve", "--data-dir", data.path, "--port", "0"], directory: scratch.url)
        let started = try await node.waitForOutput(containing: "apinode: serving on ")
        let url = String(started[started.range(of: "serving on ")!.upperBound...].prefix { !$0.isWhitespace })
        func query() async throws -> String {
            try await run("/usr/bin/env", ["curl", "-s", "-X", "POST", "\(url)/public/api/v1/churn/predict-churn/predict", "-d", features], in: scratch.url).output
        }
        #expect(try await query().contains("\"prediction\":5"))
        #expect(try await admin("service-import-generation", "churn", v2.path).status == 0)
        let mapping = #"{"entries":[{"generation":"v1","proba":0.0},{"generation":"v2","proba":1.0}]}"#
        #expect(try await admin("service-set-mapping", "churn", input: mapping).status == 0)
        #expect(try await query().contains("\"prediction\":23"))
        #expect(try await admin("predict", "churn", "predict-churn", input: features).output.contains("\"prediction\" : 23"))
        #expect(try await admin("service-disable", "churn").status == 0)
        #expect(try await query().contains("disabled"))
        #expect(try await admin("service-enable", "churn").status == 0)
        #expect(try await admin("service-switch-to-generation", "churn", "v2").status == 0)
        #expect(try await admin("services-clean").output.contains("churn/v1"))
        let generations = try await admin("service-list-generations", "churn").output
        #expect(generations.contains("v2") && !generations.contains("v1"))
        #expect(try await admin("service-delete", "churn").status == 0)
        let remaining = try JSONValue.parse(try await admin("services-list").output)
        #expect(remaining == [])
        #expect(try await query().contains("unknown service"))
        let keys = try await admin("admin-keys-list").output.split(separator: "\n")
        #expect(keys.count == 1, "the tool's temporary keys are gone: \(keys)")
        #expect(try await admin("admin-key-delete", key).status == 0)
        node.signal(SIGTERM)
        _ = await node.finish()
    }
}
