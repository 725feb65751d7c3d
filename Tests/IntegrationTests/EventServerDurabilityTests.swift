import AsyncHTTPClient
import DeployerModel
import Foundation
import NIOCore
import Testing

/// The event server as a real process: killed with SIGKILL ten times during sustained ingest,
/// it keeps every event it acknowledged, and its files parse cleanly after the restart.
@Suite struct EventServerDurabilityTests {
    actor Acknowledged {
        var ids: Set<String> = []
        var thisRound = 0
        func add(_ batch: [String]) {
            ids.formUnion(batch)
            thisRound += batch.count
        }
        func startRound() { thisRound = 0 }
    }

    static let kills = 10
    static let writers = 8
    static let batch = 20

    @Test func everyAcknowledgedEventSurvivesTenSIGKILLsDuringIngest() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let root = scratch.url.appendingPathComponent("events")
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let acknowledged = Acknowledged()
        for round in 0..<Self.kills {
            let server = try await Self.start(root: root, in: scratch)
            await acknowledged.startRound()
            let (reachedTarget, signalTarget) = AsyncStream<Void>.makeStream()
            // The writers post batches as fast as they are acknowledged; the server is killed
            // once 200 more events are acknowledged, with batches still in flight.
            await withTaskGroup(of: Void.self) { group in
                for writer in 0..<Self.writers {
                    group.addTask {
                        for sequence in 0..<500 {
                            let ids = (0..<Self.batch).map { "\(round)-\(writer)-\(sequence)-\($0)" }
                            guard await Self.post(ids, to: server.url, http: http) else { return }
                            await acknowledged.add(ids)
                            if await acknowledged.thisRound >= 200 { signalTarget.yield() }
                        }
                    }
                }
                group.addTask {
                    for await _ in reachedTarget { break }
                    server.child.signal(SIGKILL)
                    _ = await server.child.finish()
                }
                await group.waitForAll()
            }
            signalTarget.finish()
        }
        // A last start repairs what the last kill tore; a clean stop leaves whole files.
        let last = try await Self.start(root: root, in: scratch)
        let repairs = await last.child.terminate().errors.components(separatedBy: "cut a torn last line").count - 1
        try await http.shutdown()

        var stored = Set<String>()
        var unreadable = 0
        for line in try Self.lines(under: root) {
            guard let event = try? JSONValue.parse(line), let id = event["clientEvent"]?["id"]?.stringValue else {
                unreadable += 1
                continue
            }
            stored.insert(id)
        }
        let expected = await acknowledged.ids
        let lost = expected.subtracting(stored)
        print("event server: \(expected.count) events acknowledged over \(Self.kills) kills, \(stored.count) stored, \(repairs) torn lines cut at the last start")
        #expect(expected.count >= Self.kills * 200)
        #expect(unreadable == 0, "\(unreadable) lines do not parse")
        #expect(lost.isEmpty, "\(lost.count) acknowledged events lost, e.g. \(lost.prefix(5))")
    }

    @Test func badRequestsAreRefusedCountedAndLeaveNothing() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let root = scratch.url.appendingPathComponent("events")
        let config = scratch.url.appendingPathComponent("eventserver.yaml")
        try "authKeys: [secret-key]\ndestinations: [{name: queries, topics: [apinode-query]}]\n".write(to: config, atomically: true, encoding: .utf8)
        let child = try ChildProcess(
            Products.apideployer, ["eventserver", "serve", "--root", root.path, "--port", "0", "--config", config.path], directory: scratch.url)
        let marker = "eventserver: serving on "
        let text = try await child.waitForOutput(containing: marker)
        let url = String(text[text.range(of: marker)!.upperBound...].prefix { !$0.isWhitespace })
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        func post(topic: String, key: String?, body: ByteBuffer) async throws -> (Int, String) {
            var request = HTTPClientRequest(url: url + "/events?topic=\(topic)&routingKey=r")
            request.method = .POST
            if let key { request.headers.add(name: "X-Event-Key", value: key) }
            request.body = .bytes(body)
            let response = try await http.execute(request, timeout: .seconds(30))
            return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
        }
        let event = ByteBuffer(string: #"{"id":"x"}"#)
        let answers = await Result {
            [
                try await post(topic: "apinode-query", key: "wrong", body: event),
                try await post(topic: "apinode-query", key: nil, body: event),
                try await post(topic: "other", key: "secret-key", body: event),
                try await post(topic: "apinode-query", key: "secret-key", body: ByteBuffer(string: #"{"id":"#)),
                try await post(topic: "apinode-query", key: "secret-key", body: ByteBuffer(repeating: UInt8(ascii: " "), count: 33 * 1024 * 1024)),
            ]
        }
        var metricsRequest = HTTPClientRequest(url: url + "/metrics")
        metricsRequest.method = .GET
        let metrics = await Result { String(buffer: try await http.execute(metricsRequest, timeout: .seconds(10)).body.collect(upTo: 1 << 20)) }
        try await http.shutdown()
        _ = await child.terminate()
        let refused = try answers.get()
        let exposition = try metrics.get()
        #expect(refused.map(\.0) == [401, 401, 404, 400, 413], "\(refused)")
        #expect(refused[2].1.contains("no destination takes topic \\\"other\\\""), "\(refused[2].1)")
        for reason in ["unauthorized\"} 2", "unknown-topic\"} 1", "malformed\"} 1", "too-large\"} 1"] {
            #expect(exposition.contains("eventserver_rejected_requests_total{reason=\"\(reason)"), "\(reason)")
        }
        #expect(try Self.lines(under: root).isEmpty, "nothing refused is stored")
    }

    @Test func logsShowADeploymentsEventsAndFollowNewOnes() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let server = try await Self.start(root: scratch.url.appendingPathComponent("events"), in: scratch)
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let outcome = await Result {
            #expect(await Self.post(["a1", "a2"], to: server.url, http: http))
            var other = HTTPClientRequest(url: server.url + "/events?topic=apinode-query&routingKey=other")
            other.method = .POST
            other.body = .bytes(ByteBuffer(string: #"{"id":"b1"}"#))
            _ = try await http.execute(other, timeout: .seconds(10))
            let listed = try await run(
                Products.apideployer, ["logs", "queries", "churn-dev", "--event-server", server.url, "--since", "10m"], in: scratch.url)
            let ids = listed.output.split(separator: "\n").compactMap { try? JSONValue.parse(String($0))["id"]?.stringValue }
            #expect(ids == ["a1", "a2"], "\(listed.output)\(listed.errors)")

            let follower = try ChildProcess(
                Products.apideployer, ["logs", "queries", "churn-dev", "--event-server", server.url, "--since", "10m", "--follow"], directory: scratch.url)
            _ = try await follower.waitForOutput(containing: #""id":"a2""#)
            #expect(await Self.post(["a3"], to: server.url, http: http))
            let followed = await Result { try await follower.waitForOutput(containing: #""id":"a3""#) }
            _ = await follower.terminate()
            _ = try followed.get()
        }
        try await http.shutdown()
        _ = await server.child.terminate()
        try outcome.get()
    }

    struct Server {
        let child: ChildProcess
        let url: String
    }

    static func start(root: URL, in scratch: Scratch, port: Int = 0, arguments: [String] = []) async throws -> Server {
        let child = try ChildProcess(
            Products.apideployer, ["eventserver", "serve", "--root", root.path, "--port", String(port)] + arguments, directory: scratch.url)
        let marker = "eventserver: serving on "
        let text = try await child.waitForOutput(containing: marker)
        return Server(child: child, url: String(text[text.range(of: marker)!.upperBound...].prefix { !$0.isWhitespace }))
    }

    /// Posts one NDJSON batch; true once acknowledged (200).
    static func post(_ ids: [String], to url: String, http: HTTPClient) async -> Bool {
        var request = HTTPClientRequest(url: url + "/events?topic=apinode-query&routingKey=churn-dev")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-ndjson")
        request.body = .bytes(ByteBuffer(string: ids.map { #"{"id":"\#($0)","features":{"tenure":3}}"# }.joined(separator: "\n")))
        guard let response = try? await http.execute(request, timeout: .seconds(10)) else { return false }
        _ = try? await response.body.collect(upTo: 1 << 20)
        return response.status == .ok
    }

    static func lines(under root: URL) throws -> [String] {
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { return [] }
        var lines: [String] = []
        for case let url as URL in walker where url.pathExtension == "jsonl" {
            lines += try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
        }
        return lines
    }
}
