import CloudHTTP
import DeployerModel
import Foundation

/// The operations through the HTTPS API.
enum APIBench {
    struct Result {
        var createsPerSecond = 0.0
        var updatesPerSecond = 0.0
        var listMedianMs = 0.0
        var listP95Ms = 0.0
        var watchEventsPerSecond = 0.0
        var residentMB = 0.0
    }

    static let collection = APIPaths.collection(.serviceDeployment, namespace: "default")

    static func document(_ index: Int, version: String) -> [UInt8] {
        let object: JSONValue = [
            "apiVersion": "apideployer.dev/v1alpha1", "kind": "ServiceDeployment",
            "metadata": ["name": .string("bench-\(index)"), "labels": ["bench": "store"]],
            "spec": [
                "service": "churn", "infrastructure": "dev-static", "version": .string(version),
                "endpointTuning": ["predict": ["floor": 1, "ceil": 8, "cruise": 2, "queue": 64, "timeoutMs": 10000]],
                "testQueries": [["endpoint": "predict", "query": ["features": ["tenure": 3, "plan": "basic", "monthly_charges": 70.5]]]],
            ],
        ]
        return object.serialized()
    }

    static func run(server: ServerUnderTest, objects: Int, concurrency: Int, watchers: Int) async throws -> Result {
        var result = Result()
        let client = try server.client(connections: concurrency + watchers + 8)
        let createSeconds = try await timed(total: objects, workers: concurrency) { index in
            let response = try await client.send(.POST, collection, body: document(index, version: "v1"))
            guard response.status == 201 else { throw BenchError("create failed: \(response.status)") }
        }
        result.createsPerSecond = Double(objects) / createSeconds
        let updateSeconds = try await timed(total: objects, workers: concurrency) { index in
            let response = try await client.send(
                .PATCH, collection + "/bench-\(index)", body: Array(#"{"spec":{"version":"v2"}}"#.utf8), contentType: "application/merge-patch+json")
            guard response.status == 200 else { throw BenchError("update failed: \(response.status)") }
        }
        result.updatesPerSecond = Double(objects) / updateSeconds
        var listTimes: [Double] = []
        for _ in 0..<20 {
            let start = ContinuousClock.now
            let response = try await client.send(.GET, collection)
            guard response.status == 200 else { throw BenchError("list failed") }
            listTimes.append((ContinuousClock.now - start).seconds * 1000)
        }
        result.listMedianMs = percentile(listTimes, 0.5)
        result.listP95Ms = percentile(listTimes, 0.95)
        result.watchEventsPerSecond = try await watchFanOut(client: client, watchers: watchers, updates: min(2_000, objects), concurrency: concurrency)
        result.residentMB = server.residentMB
        try await client.shutdown()
        return result
    }

    /// Opens `watchers` watches, makes `updates` changes, and times until every watcher saw them all.
    static func watchFanOut(client: KubeClient, watchers: Int, updates: Int, concurrency: Int) async throws -> Double {
        let list = try JSONValue.parse(try await client.send(.GET, collection, query: ["limit": "1"]).body)
        let version = list["metadata"]?["resourceVersion"]?.stringValue ?? "0"
        let (ready, readySignal) = AsyncStream<Void>.makeStream()
        return try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<watchers {
                group.addTask {
                    var seen = 0
                    readySignal.yield()
                    for try await _ in client.watch(collection, query: ["resourceVersion": version, "timeoutSeconds": "600"], timeout: .seconds(600)) {
                        seen += 1
                        if seen == updates { return }
                    }
                    throw BenchError("watch ended after \(seen) events")
                }
            }
            var opened = 0
            for await _ in ready {
                opened += 1
                if opened == watchers { break }
            }
            let start = ContinuousClock.now
            _ = try await timed(total: updates, workers: concurrency) { index in
                let response = try await client.send(
                    .PATCH, collection + "/bench-\(index)", body: Array(#"{"spec":{"version":"v3"}}"#.utf8), contentType: "application/merge-patch+json")
                guard response.status == 200 else { throw BenchError("update during fan-out failed: \(response.status)") }
            }
            try await group.waitForAll()
            return Double(watchers * updates) / (ContinuousClock.now - start).seconds
        }
    }
}
