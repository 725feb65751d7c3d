import DeployerModel
import Foundation
import Testing

/// The node killed with SIGKILL in the middle of an import, and the node serving HTTPS.
@Suite struct NodeCrashAndTLSTests {
    /// Starts `node serve` on a free port and returns it with its URL.
    static func startNode(_ data: URL, in scratch: Scratch, extra: [String] = []) async throws -> (ChildProcess, String) {
        let node = try ChildProcess(Products.apideployer, ["node", "serve", "--data-dir", data.path, "--port", "0"] + extra, directory: scratch.url)
        let started = try await node.waitForOutput(containing: "apinode: serving on ")
        return (node, String(started[started.range(of: "serving on ")!.upperBound...].prefix { !$0.isWhitespace }))
    }

    /// Waits (bounded, without sleeping) until a file whose name starts with `prefix` exists in `folder`.
    static func appears(_ prefix: String, in folder: URL, within limit: Duration = .seconds(60)) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).contains(where: { $0.hasPrefix(prefix) }) { return true }
            await Task.yield()
        }
        return false
    }

    /// A node data directory serving churn v1 (y = tenure + charges), and its admin tool.
    static func nodeServingV1(in scratch: Scratch) async throws -> (data: URL, tool: String, v1: URL) {
        let data = scratch.url.appendingPathComponent("node")
        #expect(try await run(Products.apideployer, ["node", "init", data.path], in: scratch.url).status == 0)
        let tool = data.appendingPathComponent("bin/apinode-admin").path
        let v1 = try await NodeTests.buildPackage(in: scratch, version: "v1", slope: "1.0")
        for step in [["service-create", "churn"], ["service-import-generation", "churn", v1.path], ["service-switch-to-newest", "churn"]] {
            #expect(try await run(tool, step, in: scratch.url).status == 0, "\(step)")
        }
        return (data, tool, v1)
    }

    @Test func killDuringImportLeavesThePreviousGenerationServing() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let (data, tool, v1) = try await Self.nodeServingV1(in: scratch)
        let v2 = try await NodeTests.buildPackage(in: scratch, version: "v2", slope: "10.0", paddingBytes: 24 * 1024 * 1024)
        let key = try await run(tool, ["admin-key-create"], in: scratch.url).output.trimmingCharacters(in: .whitespacesAndNewlines)
        let digest = String(try await run("/usr/bin/env", ["sha256sum", v2.path], in: scratch.url).output.prefix(64))
        let service = data.appendingPathComponent("services/churn")

        // Kill while the upload streams to disk, while the archive is extracted into staging, and
        // as the generation is moved into place.
        let moments: [(String, URL)] = [("upload-", data.appendingPathComponent("run")), ("staging-", service), ("v2", service.appendingPathComponent("generations"))]
        var recordedAfterKill = 0
        for (prefix, folder) in moments {
            let (node, url) = try await Self.startNode(data, in: scratch)
            let upload = try ChildProcess("/usr/bin/env", ["curl", "-s", "-u", "\(key):", "-X", "PUT", "-H", "X-Content-SHA256: \(digest)",
                "--data-binary", "@\(v2.path)", "\(url)/admin/api/services/churn/generations/v2/archive"], directory: scratch.url)
            let reached = await Self.appears(prefix, in: folder)
            node.signal(SIGKILL)
            _ = await node.finish()
            _ = await upload.finish()
            #expect(reached, "the import reached \(prefix) before the kill")

            let (restarted, newURL) = try await Self.startNode(data, in: scratch)
            let answer = try await run("/usr/bin/env", ["curl", "-s", "-X", "POST", "\(newURL)/public/api/v1/churn/predict-churn/predict",
                "-d", #"{"features":{"tenure":2,"charges":3}}"#], in: scratch.url).output
            let parsed = try JSONValue.parse(answer)
            #expect(NodeTests.number(parsed["result"]?["prediction"]) == 5, "still v1 after a kill at \(prefix): \(answer)")
            #expect(parsed["apiContext"]?["serviceGeneration"] == "v1")
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: service.path).filter { $0.hasPrefix("staging-") }
                + (try FileManager.default.contentsOfDirectory(atPath: data.appendingPathComponent("run").path).filter { $0.hasPrefix("upload-") })
            #expect(leftovers.isEmpty, "\(leftovers)")
            // Either the import completed before the kill (v2 recorded and whole) or v2 does not exist at all.
            let record = try JSONValue.parse(Array(try Data(contentsOf: service.appendingPathComponent("service.json"))))
            let recorded = record["generations"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            let onDisk = try FileManager.default.contentsOfDirectory(atPath: service.appendingPathComponent("generations").path).sorted()
            #expect(onDisk == recorded.sorted(), "no generation folder without a record")
            if recorded.contains("v2") {
                recordedAfterKill += 1
                #expect(try await run(tool, ["service-delete", "churn"], in: scratch.url).status == 0)
                #expect(try await run(tool, ["service-create", "churn"], in: scratch.url).status == 0)
                #expect(try await run(tool, ["service-import-generation", "churn", v1.path], in: scratch.url).status == 0)
                #expect(try await run(tool, ["service-switch-to-newest", "churn"], in: scratch.url).status == 0)
            }
            restarted.signal(SIGTERM)
            _ = await restarted.finish()
        }
        // The interrupted version imports cleanly afterwards.
        #expect(try await run(tool, ["service-import-generation", "churn", v2.path], in: scratch.url).status == 0)
        #expect(try await run(tool, ["service-switch-to-newest", "churn"], in: scratch.url).status == 0)
        #expect(try await run(tool, ["predict", "churn", "predict-churn"], in: scratch.url, input: #"{"features":{"tenure":2,"charges":3}}"#)
            .output.contains("\"prediction\" : 23"))
        print("kill during import: \(moments.count) kills, \(recordedAfterKill) after the import had been recorded")
    }

    @Test func servesHTTPSWithTheGivenCertificate() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let (data, tool, _) = try await Self.nodeServingV1(in: scratch)
        let certificate = scratch.url.appendingPathComponent("node.crt").path
        let key = scratch.url.appendingPathComponent("node.key").path
        let made = try await run("/usr/bin/env", ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", key, "-out", certificate, "-days", "1", "-subj", "/CN=apinode", "-addext", "subjectAltName=IP:127.0.0.1"], in: scratch.url)
        #expect(made.status == 0, "\(made.errors)")

        let lonely = try await run(Products.apideployer, ["node", "serve", "--data-dir", data.path, "--port", "0", "--tls-cert", certificate], in: scratch.url)
        #expect(lonely.status != 0 && lonely.errors.contains("--tls-cert and --tls-key go together"))
        let missing = try await run(Products.apideployer, ["node", "serve", "--data-dir", data.path, "--port", "0",
            "--tls-cert", certificate, "--tls-key", "/nonexistent.key"], in: scratch.url)
        #expect(missing.status != 0 && missing.errors.contains("--tls-key /nonexistent.key"), "\(missing.errors)")

        let (node, url) = try await Self.startNode(data, in: scratch, extra: ["--tls-cert", certificate, "--tls-key", key])
        #expect(url.hasPrefix("https://"))
        let answer = try await run("/usr/bin/env", ["curl", "-s", "--cacert", certificate, "-X", "POST", "\(url)/public/api/v1/churn/predict-churn/predict",
            "-d", #"{"features":{"tenure":2,"charges":3}}"#], in: scratch.url).output
        #expect(NodeTests.number(try JSONValue.parse(answer)["result"]?["prediction"]) == 5, "\(answer)")
        let untrusted = try await run("/usr/bin/env", ["curl", "-s", "\(url)/isAlive/"], in: scratch.url)
        #expect(untrusted.status != 0, "a client that does not trust the certificate is refused")
        // The admin tool reaches the running node over HTTPS, trusting exactly its certificate.
        let listed = try await run(tool, ["services-list"], in: scratch.url)
        #expect(listed.status == 0 && listed.output.contains("\"serviceId\" : \"churn\""), "\(listed.errors)")
        node.signal(SIGTERM)
        _ = await node.finish()
    }
}
