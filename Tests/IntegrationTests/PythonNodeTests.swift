import DeployerModel
import Foundation
import Testing

/// A node process with a Python function endpoint: served over HTTP, and no worker process
/// outlives the node, whether it stops cleanly or is killed.
@Suite struct PythonNodeTests {
    /// Processes whose command line mentions `text` (the node's data directory).
    static func processes(mentioning text: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            return String(decoding: data, as: UTF8.self).contains(text) && String(decoding: data, as: UTF8.self).contains("worker.py")
        }
    }

    /// Waits until process `pid` (not our child) has exited, by polling its pidfd; false after `seconds`.
    static func waitForExit(_ pid: Int32, seconds: Int32) -> Bool {
        typealias PidfdOpen = @convention(c) (Int32, UInt32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pidfd_open") else { return false }  // glibc 2.36+
        let descriptor = unsafeBitCast(symbol, to: PidfdOpen.self)(pid, 0)
        guard descriptor >= 0 else { return errno == ESRCH }  // already gone
        defer { close(descriptor) }
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, seconds * 1000) == 1
    }

    static func package(in scratch: Scratch) async throws -> URL {
        let folder = scratch.url.appendingPathComponent("package")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("code"), withIntermediateDirectories: true)
        try """
            apiVersion: apideployer.dev/v1alpha1
            kind: ServicePackage
            service: calc
            version: v1
            endpoints:
              - id: add
                type: function
                python: {file: code/calc.py, function: add}
            """.write(to: folder.appendingPathComponent("service.yaml"), atomically: true, encoding: .utf8)
        try "import os\n\ndef add(a, b):\n    return {'sum': a + b, 'pid': os.getpid()}\n"
            .write(to: folder.appendingPathComponent("code/calc.py"), atomically: true, encoding: .utf8)
        let archive = scratch.url.appendingPathComponent("calc.zip")
        #expect(try await run(Products.apideployer, ["package", "build", folder.path, "-o", archive.path], in: scratch.url).status == 0)
        return archive
    }

    @Test func workersServeOverHTTPAndEndWithTheNode() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let data = scratch.url.appendingPathComponent("node")
        let python = try await run("/usr/bin/env", ["bash", Products.repository.appendingPathComponent("hack/python-env.sh").path], in: scratch.url)
            .output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try await run(Products.apideployer, ["node", "init", data.path, "--python", python], in: scratch.url).status == 0)
        let admin = data.appendingPathComponent("bin/apinode-admin").path
        #expect(try await run(admin, ["service-create", "calc"], in: scratch.url).status == 0)
        let imported = try await run(admin, ["service-import-generation", "calc", try await Self.package(in: scratch).path], in: scratch.url)
        #expect(imported.status == 0, "\(imported.errors)")
        #expect(try await run(admin, ["service-switch-to-newest", "calc"], in: scratch.url).status == 0)
        #expect(Self.processes(mentioning: data.path).isEmpty, "the offline tool leaves no worker behind")

        for stop in [SIGTERM, SIGKILL] {
            let node = try ChildProcess(
                Products.apideployer, ["node", "serve", "--data-dir", data.path, "--port", "0"], directory: scratch.url)
            let started = try await node.waitForOutput(containing: "apinode: serving on ")
            let url = String(started[started.range(of: "serving on ")!.upperBound...].prefix { !$0.isWhitespace })
            let answer = try await run(
                "/usr/bin/env", ["curl", "-s", "-X", "POST", "\(url)/public/api/v1/calc/add/run", "-d", #"{"a": 40, "b": 2}"#], in: scratch.url)
            let body = try JSONValue.parse(Array(answer.output.utf8))
            #expect(body["response"]?["sum"] == 42, "\(answer.output)")
            let metrics = try await run("/usr/bin/env", ["curl", "-s", "\(url)/metrics"], in: scratch.url).output
            #expect(metrics.contains(#"apinode_python_workers{service="calc",endpoint="add",generation="v1"} 1"#), "\(metrics)")
            let workers = Self.processes(mentioning: data.path)
            #expect(workers.contains(Int32(body["response"]?["pid"]?.intValue ?? -1)))
            if stop == SIGTERM {
                #expect(await node.terminate().status == 0)
                #expect(Self.processes(mentioning: data.path).isEmpty, "stopped with the node")
            } else {
                node.signal(SIGKILL)
                _ = await node.finish()
                for worker in workers { #expect(Self.waitForExit(worker, seconds: 10), "worker \(worker) outlived a killed node") }
            }
        }
    }
}
