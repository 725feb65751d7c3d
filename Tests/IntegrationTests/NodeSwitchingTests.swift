import AsyncHTTPClient
import DeployerModel
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// Zero-downtime switching: queries keep flowing while generations and mappings change.
@Suite struct NodeSwitchingTests {
    actor Tally {
        var answered = 0
        var failures: [String] = []
        var byGeneration: [String: Int] = [:]
        let switchEvery: Int
        let switches: AsyncStream<Void>.Continuation

        init(switchEvery: Int, switches: AsyncStream<Void>.Continuation) {
            self.switchEvery = switchEvery
            self.switches = switches
        }

        func record(generation: String?, failure: String?) {
            answered += 1
            if let failure { failures.append(failure) }
            if let generation { byGeneration[generation, default: 0] += 1 }
            if answered % switchEvery == 0 { switches.yield() }
        }
    }

    @Test func twentySwitchesUnderLoadLoseNoQuery() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let data = scratch.url.appendingPathComponent("node")
        _ = try await run(Products.apideployer, ["node", "init", data.path], in: scratch.url)
        let key = try await run(data.appendingPathComponent("bin/apinode-admin").path, ["admin-key-create"], in: scratch.url)
            .output.trimmingCharacters(in: .whitespacesAndNewlines)
        let node = try ChildProcess(Products.apideployer, ["node", "serve", "--data-dir", data.path, "--port", "0"], directory: scratch.url)
        let started = try await node.waitForOutput(containing: "apinode: serving on ")
        let url = String(started[started.range(of: "serving on ")!.upperBound...].prefix { !$0.isWhitespace })
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let authorization = "Basic " + Base64.encode(Array("\(key):".utf8))

        func send(_ method: HTTPMethod, _ path: String, _ body: [UInt8] = [], headers: [(String, String)] = []) async throws -> (Int, JSONValue?) {
            var request = HTTPClientRequest(url: url + path)
            request.method = method
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            if !body.isEmpty { request.body = .bytes(ByteBuffer(bytes: body)) }
            let response = try await client.execute(request, timeout: .seconds(30))
            let bytes = try await response.body.collect(upTo: 1 << 20)
            return (Int(response.status.code), try? JSONValue.parse(Array(bytes.readableBytesView)))
        }

        let admin = [("Authorization", authorization)]
        _ = try await send(.POST, "/admin/api/services/", Array(#"{"serviceId":"churn"}"#.utf8), headers: admin)
        for (version, slope) in [("v1", "1.0"), ("v2", "10.0")] {
            let archive = try await NodeTests.buildPackage(in: scratch, version: version, slope: slope)
            let digest = String(try await run("/usr/bin/env", ["sha256sum", archive.path], in: scratch.url).output.prefix(64))
            let (status, _) = try await send(
                .PUT, "/admin/api/services/churn/generations/\(version)/archive", Array(try Data(contentsOf: archive)),
                headers: admin + [("X-Content-SHA256", digest)])
            #expect(status == 200)
        }
        _ = try await send(.POST, "/admin/api/services/churn/actions/switchTo/v1", headers: admin)

        // Expected predictions for tenure 2, charges 3: v1 = 2 * 1 + 3 = 5, v2 = 2 * 10 + 3 = 23.
        let expected = ["v1": 5.0, "v2": 23.0]
        let operations: [(String, [UInt8])] = (0..<20).map { index in
            switch index % 4 {
            case 0: ("/admin/api/services/churn/actions/switchTo/v2", [])
            case 1: ("/admin/api/services/churn/actions/setMapping", Array(#"{"entries":[{"generation":"v1","proba":0.5},{"generation":"v2","proba":0.5}]}"#.utf8))
            case 2: ("/admin/api/services/churn/actions/switchTo/v1", [])
            default: ("/admin/api/services/churn/actions/setMapping", Array(#"{"entries":[{"generation":"v1","proba":0.2},{"generation":"v2","proba":0.8}]}"#.utf8))
            }
        }
        let (switchSignals, switchContinuation) = AsyncStream<Void>.makeStream()
        let tally = Tally(switchEvery: 90, switches: switchContinuation)
        let queries = 2_000
        let workers = 8
        var switchesDone = 0
        try await withThrowingTaskGroup(of: Int.self) { group in
            group.addTask {
                var done = 0
                for await _ in switchSignals where done < operations.count {
                    let (path, body) = operations[done]
                    let (status, _) = try await send(.POST, path, body, headers: admin)
                    #expect(status == 200)
                    done += 1
                    if done == operations.count { break }
                }
                return done
            }
            for worker in 0..<workers {
                group.addTask {
                    for _ in stride(from: worker, to: queries, by: workers) {
                        let (status, body) = try await send(
                            .POST, "/public/api/v1/churn/predict-churn/predict", Array(#"{"features":{"tenure":2,"charges":3}}"#.utf8))
                        let generation = body?["apiContext"]?["serviceGeneration"]?.stringValue
                        let prediction = NodeTests.number(body?["result"]?["prediction"])
                        var failure: String?
                        if status != 200 { failure = "status \(status)" }
                        else if let generation, prediction != expected[generation] { failure = "\(generation) answered \(String(describing: prediction))" }
                        await tally.record(generation: generation, failure: failure)
                    }
                    return 0
                }
            }
            for _ in 0..<workers { switchesDone += try await group.next() ?? 0 }
            switchContinuation.finish()
            while let count = try await group.next() { switchesDone += count }
        }
        let failures = await tally.failures
        let byGeneration = await tally.byGeneration
        #expect(failures.isEmpty, "\(failures.count) failed queries, e.g. \(failures.prefix(3))")
        #expect(await tally.answered == queries)
        #expect(switchesDone == 20)
        #expect((byGeneration["v1"] ?? 0) > 0 && (byGeneration["v2"] ?? 0) > 0)
        try await client.shutdown()
        node.signal(SIGTERM)
        _ = await node.finish()
    }
}
