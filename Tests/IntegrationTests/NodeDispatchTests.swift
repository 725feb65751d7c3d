import AsyncHTTPClient
import DeployerModel
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// Hash dispatch measured the way callers see it: over real sockets, through the node.
@Suite struct NodeDispatchTests {
    @Test func hashDispatchIsStickyAndFollowsTheWeightsOverSockets() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let data = scratch.url.appendingPathComponent("node")
        _ = try await run(Products.apideployer, ["node", "init", data.path], in: scratch.url)
        let tool = data.appendingPathComponent("bin/apinode-admin").path
        _ = try await run(tool, ["service-create", "churn"], in: scratch.url)
        for (version, slope) in [("v1", "1.0"), ("v2", "10.0")] {
            let archive = try await NodeTests.buildPackage(in: scratch, version: version, slope: slope)
            #expect(try await run(tool, ["service-import-generation", "churn", archive.path], in: scratch.url).status == 0)
        }
        let mapping = #"{"strategy":"HASH_BASED","entries":[{"generation":"v1","proba":0.9},{"generation":"v2","proba":0.1}]}"#
        #expect(try await run(tool, ["service-set-mapping", "churn"], in: scratch.url, input: mapping).status == 0)
        let node = try ChildProcess(Products.apideployer, ["node", "serve", "--data-dir", data.path, "--port", "0"], directory: scratch.url)
        let started = try await node.waitForOutput(containing: "apinode: serving on ")
        let url = String(started[started.range(of: "serving on ")!.upperBound...].prefix { !$0.isWhitespace })
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 16
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)

        @Sendable func generation(for key: String) async throws -> String {
            var request = HTTPClientRequest(url: url + "/public/api/v1/churn/predict-churn/predict")
            request.method = .POST
            request.body = .bytes(ByteBuffer(string: #"{"features":{"tenure":1,"charges":1},"dispatch":{"dispatchKey":"\#(key)"}}"#))
            let response = try await client.execute(request, timeout: .seconds(30))
            let body = try JSONValue.parse(Array(try await response.body.collect(upTo: 1 << 16).readableBytesView))
            return body["apiContext"]?["serviceGeneration"]?.stringValue ?? "status \(response.status.code)"
        }

        let sticky = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<1_000 { group.addTask { try await generation(for: "customer-42") } }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(sticky.count == 1, "one key reached \(sticky)")

        let keys = 100_000
        let workers = 16
        let counts = try await withThrowingTaskGroup(of: [String: Int].self) { group in
            for worker in 0..<workers {
                group.addTask {
                    var counts: [String: Int] = [:]
                    for index in stride(from: worker, to: keys, by: workers) { counts[try await generation(for: "key-\(index)-\(index &* 2_654_435_761)"), default: 0] += 1 }
                    return counts
                }
            }
            return try await group.reduce(into: [String: Int]()) { total, part in total.merge(part, uniquingKeysWith: +) }
        }
        #expect(counts.values.reduce(0, +) == keys)
        #expect(abs(Double(counts["v1"] ?? 0) / Double(keys) - 0.9) < 0.02, "\(counts)")
        #expect(abs(Double(counts["v2"] ?? 0) / Double(keys) - 0.1) < 0.02, "\(counts)")
        try await client.shutdown()
        node.signal(SIGTERM)
        _ = await node.finish()
    }
}
