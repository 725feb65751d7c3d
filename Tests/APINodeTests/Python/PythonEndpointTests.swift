import APINode
import DeployerModel
import Foundation
import Testing

/// Python function and prediction endpoints run in real worker processes.
@Suite(.serialized) struct PythonEndpointTests {
    static func ask(_ runtime: NodeRuntime, _ endpoint: String, _ verb: String, _ body: JSONValue) async -> PublicAPI.Answer {
        var generator = SplitMix64(seed: 3)
        return await PublicAPI().handle(runtime.table, service: "py", endpoint: endpoint, verb: verb, body: body.serialized(), query: [:], using: &generator)
    }

    static func pool(_ runtime: NodeRuntime, _ generation: String = "v1", _ endpoint: String = "work") -> PythonWorkerPool {
        runtime.table.services["py"]!.generations[generation]!.python[endpoint]!
    }

    @Test func functionAndPredictionEndpointsAnswerLikeNativeOnes() async throws {
        let (runtime, directory) = try PythonPackages.runtime()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await runtime.createService("py")
        let archive = try PythonPackages.archive(version: "v1")
        try await runtime.importGeneration(service: "py", archive: archive)
        try await runtime.switchTo(service: "py", generation: "v1")
        await runtime.startWorkers()

        let sum = await Self.ask(runtime, "work", "run", ["a": 2, "b": 40])
        #expect(sum.status == 200)
        #expect(sum.body["response"]?["sum"] == 42)
        #expect(sum.body["apiContext"]?["serviceGeneration"] == "v1")
        #expect(sum.generation == "v1")

        let raised = await Self.ask(runtime, "work", "run", ["mode": "raise", "a": 7])
        #expect(raised.status == 500)
        #expect(raised.body["errorType"] == "ValueError")
        #expect(raised.body["message"]?.stringValue?.contains("no customer 7") == true)
        let printed = await Self.ask(runtime, "work", "run", ["mode": "print", "a": 1])
        #expect(printed.status == 200, "a print does not corrupt the frames: \(printed.body)")
        #expect(printed.body["response"]?["pid"] == sum.body["response"]?["pid"], "an exception does not cost the worker")
        #expect(await Self.ask(runtime, "work", "run", ["unknown": 1]).body["errorType"] == "TypeError")
        #expect(await Self.ask(runtime, "work", "predict", ["features": [:]]).status == 404)
        #expect(await Self.ask(runtime, "work", "run", [1, 2]).status == 400)

        let unpacked = directory.appendingPathComponent("unpacked")
        try PackageArchive.extract(archive, to: unpacked)
        let expected = try JSONValue.parse(Array(try Data(contentsOf: unpacked.appendingPathComponent("expected.json"))))
        let single = await Self.ask(runtime, "churn", "predict", ["features": ["tenure": 4, "charges": 75]])
        #expect(single.status == 200)
        #expect(single.body["result"]?["prediction"] == expected.arrayValue?[0]["prediction"])
        #expect(single.body["result"]?["ignored"] == false)
        for label in ["0", "1"] {
            let ours = single.body["result"]?["probas"]?[label]?.doubleValue ?? -1
            #expect(abs(ours - (expected.arrayValue?[0]["probas"]?[label]?.doubleValue ?? 2)) < 1e-12, "scikit-learn's own probability for class \(label)")
        }
        let multi = await Self.ask(
            runtime, "churn", "predict-multi", ["items": [["features": ["tenure": 4, "charges": 75]], ["features": ["tenure": 35, "charges": 22]]]])
        #expect(multi.body["results"]?.arrayValue?.map { $0["prediction"] } == [expected.arrayValue?[0]["prediction"], expected.arrayValue?[1]["prediction"]])
        #expect(await Self.ask(runtime, "churn", "predict", ["features": ["tenure": 4]]).body["errorType"] == "KeyError")
        #expect(await Self.ask(runtime, "churn", "predict", ["features": 3]).status == 400)

        await runtime.stopWorkers()
    }

    @Test func poolsGrowToCeilQueueRefuseAndShrinkToCruise() async throws {
        let (runtime, directory) = try PythonPackages.runtime(idleGrace: .milliseconds(50))
        defer { try? FileManager.default.removeItem(at: directory) }
        try await runtime.createService("py")
        try await runtime.importGeneration(service: "py", archive: try PythonPackages.archive(version: "v1"))
        let tuning = EndpointTuning(floor: 1, ceil: 3, cruise: 1, queue: 2, timeoutMs: 60_000)
        try await runtime.setTuning(service: "py", endpoint: "work", tuning)
        try await runtime.switchTo(service: "py", generation: "v1")
        await runtime.startWorkers()
        let pool = Self.pool(runtime)
        await pool.waitForWorkers { $0.started == 1 }

        // Admission is the endpoint's pool, as in the server.
        let admission = EndpointPool(tuning: tuning, clock: ContinuousClock())
        let gate = directory.appendingPathComponent("gate").path
        let calls = (0..<5).map { _ in
            Task {
                try await admission.run { await Self.ask(runtime, "work", "run", ["mode": "gate", "gate": .string(gate)]) }
            }
        }
        await pool.waitForWorkers { $0.started == 3 }
        await admission.waitForLoad { $0 == (3, 2) }
        await #expect(throws: PoolRejection.queueFull) { try await admission.run { 0 } }
        #expect(pool.workerCount == 3, "never more workers than ceil")
        #expect(FileManager.default.createFile(atPath: gate, contents: nil))
        var pids: Set<JSONValue> = []
        for call in calls {
            let answer = try await call.value
            #expect(answer.status == 200)
            pids.insert(answer.body["response"]?["pid"] ?? .null)
        }
        #expect(pids.count == 3, "five queries on three workers")
        await pool.waitForWorkers { $0.started == 1 }
        await pool.waitUntilAllEnded()
        await runtime.stopWorkers()
        #expect(pool.workerCount == 0)
    }

    @Test func crashedAndHungWorkersAreReplaced() async throws {
        let (runtime, directory) = try PythonPackages.runtime()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await runtime.createService("py")
        try await runtime.importGeneration(service: "py", archive: try PythonPackages.archive(version: "v1"))
        try await runtime.setTuning(service: "py", endpoint: "work", EndpointTuning(floor: 1, ceil: 2, cruise: 1, queue: 4, timeoutMs: 400))
        try await runtime.switchTo(service: "py", generation: "v1")
        await runtime.startWorkers()
        let pool = Self.pool(runtime)

        let first = await Self.ask(runtime, "work", "run", ["mode": "ok"])
        let crashed = await Self.ask(runtime, "work", "run", ["mode": "exit"])
        #expect(crashed.status == 500)
        #expect(crashed.body["errorType"] == "WorkerCrashed")
        #expect(crashed.body["message"]?.stringValue?.contains("status 3") == true)
        let after = await Self.ask(runtime, "work", "run", ["mode": "ok"])
        #expect(after.status == 200)
        #expect(after.body["response"]?["pid"] != first.body["response"]?["pid"], "a new process")

        let hungPID = Int32(after.body["response"]?["pid"]?.intValue ?? 0)
        let hung = await Self.ask(runtime, "work", "run", ["mode": "hang"])
        #expect(hung.status == 504)
        #expect(hung.body["errorType"] == "Timeout")
        await pool.waitUntilAllEnded()
        #expect(kill(hungPID, 0) != 0, "the hung worker was killed")
        #expect(await Self.ask(runtime, "work", "run", ["mode": "ok"]).status == 200)
        await runtime.stopWorkers()
    }

    @Test func switchingDrainsTheOldPoolAndDeletingLeavesNoProcess() async throws {
        let (runtime, directory) = try PythonPackages.runtime()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await runtime.createService("py")
        try await runtime.importGeneration(service: "py", archive: try PythonPackages.archive(version: "v1"))
        try await runtime.importGeneration(service: "py", archive: try PythonPackages.archive(version: "v2"))
        try await runtime.switchTo(service: "py", generation: "v1")
        await runtime.startWorkers()
        let old = Self.pool(runtime, "v1")
        await old.waitForWorkers { $0.started == 1 }

        // A query runs on v1 while the mapping moves to v2: it finishes there, then v1 drains.
        let gate = directory.appendingPathComponent("gate").path
        let running = Task { await Self.ask(runtime, "work", "run", ["mode": "gate", "gate": .string(gate)]) }
        await old.waitForWorkers { $0.busy == 1 }
        try await runtime.switchTo(service: "py", generation: "v2")
        await Self.pool(runtime, "v2").waitForWorkers { $0.started == 1 }
        #expect(FileManager.default.createFile(atPath: gate, contents: nil))
        #expect(await running.value.generation == "v1")
        #expect(await running.value.status == 200)
        await old.waitForWorkers { $0.started == 0 }
        await old.waitUntilAllEnded()

        let pids = Self.pool(runtime, "v2").processIDs + Self.pool(runtime, "v2", "churn").processIDs
        #expect(!pids.isEmpty)
        let pools = [Self.pool(runtime, "v2"), Self.pool(runtime, "v2", "churn")]
        try await runtime.deleteService("py")
        for pool in pools { await pool.waitUntilAllEnded() }
        for pid in pids { #expect(kill(pid, 0) != 0, "worker \(pid) ended with its service") }
    }

    @Test func importsWhoseCodeOrRequirementsFailAreRefused() async throws {
        let (runtime, directory) = try PythonPackages.runtime()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await runtime.createService("py")
        try await runtime.importGeneration(service: "py", archive: try PythonPackages.archive(version: "v1"))
        try await runtime.switchTo(service: "py", generation: "v1")

        let broken = try PythonPackages.archive(version: "v2", files: ["code/model.py": "class ChurnModel(:\n"])
        let error = await #expect(throws: NodeError.self) { try await runtime.importGeneration(service: "py", archive: broken) }
        #expect(error?.description.contains("endpoint churn (code/model.py)") == true)
        #expect(error?.description.contains("SyntaxError") == true)

        let unknownPackage = try PythonPackages.archive(
            version: "v2", manifest: PythonPackages.manifest(version: "v2", requirements: true),
            files: ["requirements.txt": "apideployer-no-such-package-for-tests==0.0.1\n"])
        let pipError = await #expect(throws: NodeError.self) { try await runtime.importGeneration(service: "py", archive: unknownPackage) }
        #expect(pipError?.description.contains("pip install -r requirements.txt failed") == true, "\(String(describing: pipError))")
        #expect(pipError?.description.contains("apideployer-no-such-package-for-tests") == true)
        #expect(try await runtime.service("py").generations.map(\.id) == ["v1"])
        #expect(await Self.ask(runtime, "work", "run", ["a": 1, "b": 1]).body["response"]?["sum"] == 2, "v1 still serves")
        await runtime.stopWorkers()
    }

    @Test func requirementsAreInstalledOnceInASharedCodeEnvironment() async throws {
        let (runtime, directory) = try PythonPackages.runtime()
        defer { try? FileManager.default.removeItem(at: directory) }
        let functions = PythonPackages.functions + "\nimport inflection\n\ndef underscore(word):\n    return inflection.underscore(word)\n"
        let manifest = { (version: String) in
            PythonPackages.manifest(
                version: version, requirements: true,
                extra: "  - id: underscore\n    type: function\n    python: {file: code/functions.py, function: underscore, requirements: requirements.txt}")
        }
        try await runtime.createService("py")
        for version in ["v1", "v2"] {
            let archive = try PythonPackages.archive(
                version: version, manifest: manifest(version), files: ["code/functions.py": functions, "requirements.txt": "inflection==0.5.1\n"])
            try await runtime.importGeneration(service: "py", archive: archive)
        }
        try await runtime.switchTo(service: "py", generation: "v2")
        let answer = await Self.ask(runtime, "underscore", "run", ["word": "DeviceType"])
        #expect(answer.body["response"] == "device_type", "\(answer.body)")
        let environments = try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("code-envs").path)
        #expect(environments.count == 1, "both generations share one environment")
        try await runtime.deleteService("py")
        await runtime.python.removeUnused(keeping: [])
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("code-envs").path).isEmpty)
    }
}
