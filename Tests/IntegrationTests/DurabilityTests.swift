import CloudHTTP
import DeployerModel
import DeployerTesting
import Foundation
import Testing

/// Acknowledged writes survive SIGKILL; watches resume across restarts while history lasts.
@Suite struct DurabilityTests {
    actor Acknowledged {
        var names: [String] = []
        var failures = 0
        func add(_ name: String) { names.append(name) }
        func failed() { failures += 1 }
        var count: Int { names.count }
    }

    static let collection = APIPaths.collection(.serviceDeployment, namespace: "default")

    @Test func everyAcknowledgedWriteSurvivesSIGKILLDuringABurst() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let data = scratch.url.appendingPathComponent("data")
        var expected = Set<String>()
        for round in 0..<3 {
            let server = try await ServerProcess.start(dataDirectory: data)
            let client = try server.client()
            let acknowledged = Acknowledged()
            let (reachedTarget, signalTarget) = AsyncStream<Void>.makeStream()
            // 8 writers create objects as fast as the server acknowledges them; the server is
            // killed once 150 more are acknowledged, while writes are still in flight.
            await withTaskGroup(of: Void.self) { group in
                for writer in 0..<8 {
                    group.addTask {
                        for index in 0..<400 {
                            let name = "r\(round)-w\(writer)-\(index)"
                            let body = SampleObjects.deployment(name).serialized()
                            guard let response = try? await client.send(.POST, Self.collection, body: body, timeout: .seconds(10)),
                                response.status == 201
                            else {
                                await acknowledged.failed()
                                return
                            }
                            await acknowledged.add(name)
                            if await acknowledged.count == 150 { signalTarget.yield() }
                        }
                    }
                }
                group.addTask {
                    for await _ in reachedTarget { break }
                    await server.kill9()
                }
                await group.waitForAll()
            }
            signalTarget.finish()
            try await client.shutdown()
            let names = await acknowledged.names
            #expect(names.count >= 150)
            expected.formUnion(names)
        }
        let server = try await ServerProcess.start(dataDirectory: data)
        let client = try server.client()
        let list = try JSONValue.parse(try await client.send(.GET, Self.collection).body)
        let stored = Set(list["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } ?? [])
        let lost = expected.subtracting(stored)
        #expect(lost.isEmpty, "\(lost.count) acknowledged writes lost, e.g. \(lost.prefix(5))")
        try await client.shutdown()
        await server.stop()
    }

    @Test func oneProcessServesADataDirectoryAndItsControllerHoldsTheLease() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let data = scratch.url.appendingPathComponent("data")
        let first = try await ServerProcess.start(dataDirectory: data, controller: true)
        let second = try await run(Products.apideployer, ["serve", "--data-dir", data.path, "--port", "0"], in: scratch.url)
        #expect(second.status != 0)
        #expect(second.errors.contains("is in use by another apideployer process (pid \(first.child.pid))"), "\(second.errors)")
        let firstLeader = await Result { try await waitForLeader(first, in: scratch) }

        // Killed, the first leaves its lease behind; the next process takes it at once.
        await first.kill9()
        try firstLeader.get()
        let restarted = try await ServerProcess.start(dataDirectory: data, controller: true)
        let leader = await Result { try await waitForLeader(restarted, in: scratch) }
        // kubectl, too, sees who leads.
        let transitions = try await run(
            "/usr/bin/env",
            ["kubectl", "--kubeconfig", restarted.kubeconfigPath, "get", "leases", Lease.controllerName, "-o", "jsonpath={.spec.leaseTransitions}"],
            environment: ["KUBECACHEDIR": scratch.url.appendingPathComponent("kube-cache").path], in: scratch.url)
        await restarted.stop()
        try leader.get()
        #expect(transitions.output == "1", "\(transitions.output)\(transitions.errors)")
    }

    /// Waits (by watch, through the CLI) until the server's own process holds the controller lease.
    private func waitForLeader(_ server: ServerProcess, in scratch: Scratch) async throws {
        let holder = "\(ProcessInfo.processInfo.hostName)_\(server.child.pid)"
        let waited = try await run(
            Products.apideployer,
            ["wait", "lease/\(Lease.controllerName)", "--for=jsonpath={.spec.holderIdentity}=\(holder)", "--timeout=60s", "--kubeconfig", server.kubeconfigPath],
            in: scratch.url)
        #expect(waited.status == 0, "\(waited.output)\(waited.errors)")
    }

    @Test func aWatchResumesAcrossARestartAndAnExpiredVersionGets410() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let data = scratch.url.appendingPathComponent("data")
        var server = try await ServerProcess.start(dataDirectory: data, extraArguments: ["--watch-history", "30"])
        var client = try server.client()
        var start = ""
        for index in 0..<5 {
            let created = try JSONValue.parse(try await client.send(.POST, Self.collection, body: SampleObjects.deployment("o\(index)").serialized()).body)
            if index == 0 { start = created["metadata"]?["resourceVersion"]?.stringValue ?? "" }
        }
        try await client.shutdown()
        await server.kill9()

        server = try await ServerProcess.start(dataDirectory: data, extraArguments: ["--watch-history", "30"])
        client = try server.client()
        for index in 5..<8 {
            _ = try await client.send(.POST, Self.collection, body: SampleObjects.deployment("o\(index)").serialized())
        }
        var seen: [String] = []
        var versions: [Int] = []
        for try await event in client.watch(Self.collection, query: ["resourceVersion": start, "timeoutSeconds": "30"], timeout: .seconds(40)) {
            seen.append(event["object"]?["metadata"]?["name"]?.stringValue ?? "?")
            versions.append(Int(event["object"]?["metadata"]?["resourceVersion"]?.stringValue ?? "") ?? 0)
            if seen.count == 7 { break }
        }
        #expect(seen == (1..<8).map { "o\($0)" })
        #expect(versions == versions.sorted())

        for index in 8..<60 {
            _ = try await client.send(.POST, Self.collection, body: SampleObjects.deployment("o\(index)").serialized())
        }
        var expired = false
        for try await event in client.watch(Self.collection, query: ["resourceVersion": start, "timeoutSeconds": "30"], timeout: .seconds(40)) {
            expired = event["type"] == "ERROR" && event["object"]?["code"] == 410
            break
        }
        #expect(expired)
        let relist = try JSONValue.parse(try await client.send(.GET, Self.collection).body)
        #expect(relist["items"]?.arrayValue?.count == 60)
        try await client.shutdown()
        await server.stop()
    }
}
