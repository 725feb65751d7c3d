import AsyncHTTPClient
import DeployerModel
import EventServer
import Foundation
import Logging
import Testing

@testable import EventShipping

/// The shipper against a real event server on loopback: batches, order, the spool during an
/// outage and across restarts, a full spool, refusals and a full queue.
@Suite struct EventShipperTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("shipping-\(UUID().uuidString)")
    var spool: URL { folder.appendingPathComponent("spool") }
    var root: URL { folder.appendingPathComponent("events") }
    /// Short waits, for servers that do not listen (a connection refused counts only once the
    /// request's time is up).
    static let quick = ShippingLimits(batchEvents: 100, linger: .milliseconds(5), firstBackoff: .milliseconds(20), longestBackoff: .milliseconds(100), requestTimeout: .seconds(1))
    /// The same with time for a live server on a loaded machine to answer.
    static let patient: ShippingLimits = {
        var limits = quick
        limits.requestTimeout = .seconds(60)
        return limits
    }()

    func event(_ index: Int, routingKey: String = "churn") -> ShippedEvent {
        ShippedEvent(topic: "apinode-query", routingKey: routingKey, line: Array(#"{"requestId":"r-\#(index)","n":\#(index)}"#.utf8))
    }

    func numbers(_ server: LiveEventServer, routingKey: String = "churn") throws -> [Int] {
        try server.events(topic: "apinode-query", routingKey: routingKey).compactMap { $0["n"]?.intValue.map(Int.init) }
    }

    /// The numbers without repeats, first occurrences kept: delivery is at least once, so a batch
    /// stored just as its request timed out may come again after it.
    func once(_ numbers: [Int]) -> [Int] {
        var seen: Set<Int> = []
        return numbers.filter { seen.insert($0).inserted }
    }

    /// Runs `shipper` while `body` runs, then finishes it and waits for its end.
    func whileRunning(_ shipper: EventShipper, _ body: () async throws -> Void) async throws {
        let task = Task { try await shipper.run() }
        do {
            try await body()
        } catch {
            shipper.finish()
            _ = await task.result
            throw error
        }
        shipper.finish()
        try await task.value
    }

    /// A loopback port nothing listens on (a server started there and stopped).
    /// A port nothing listens on, for an outage the server later ends by starting there. It is
    /// taken below the kernel's ephemeral range, which other tests' servers on port 0 draw from:
    /// one of them taking it during the outage would leave the server unable to come back.
    func closedPort(_ server: LiveEventServer) async throws -> Int {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let port = Int.random(in: 20_000..<32_000, using: &generator)
            guard let running = try? await server.start(port: port) else { continue }
            await running.stop()
            return port
        }
        throw CocoaError(.fileWriteUnknown)
    }

    @Test func eventsArriveInOrderPerRoutingKey() async throws {
        let server = LiveEventServer(root: root)
        let running = try await server.start()
        let shipper = EventShipper(target: EventTarget(url: running.url), spoolDirectory: spool, limits: Self.patient, http: .shared, logger: Logger(label: "test"))
        try await whileRunning(shipper) {
            for index in 0..<1_000 { shipper.enqueue(event(index, routingKey: index % 2 == 0 ? "even" : "odd")) }
            await shipper.wait { $0.shipped == 1_000 }
        }
        await running.stop()
        #expect(try numbers(server, routingKey: "even") == Array(stride(from: 0, to: 1_000, by: 2)))
        #expect(try numbers(server, routingKey: "odd") == Array(stride(from: 1, to: 1_000, by: 2)))
        #expect(shipper.counts.spooled == 0 && shipper.counts.dropped == 0)
    }

    @Test func anOutageSpoolsToDiskAndTheSpoolIsReplayedInOrderBeforeNewerEvents() async throws {
        let server = LiveEventServer(root: root)
        let port = try await closedPort(server)
        let shipper = EventShipper(
            target: EventTarget(url: "http://127.0.0.1:\(port)"), spoolDirectory: spool, limits: Self.quick, http: .shared, logger: Logger(label: "test"))
        try await whileRunning(shipper) {
            for index in 0..<300 { shipper.enqueue(event(index)) }
            await shipper.wait { $0.spooled == 300 }
            #expect(!shipper.counts.reachable)
            #expect(try FileManager.default.contentsOfDirectory(atPath: spool.path).filter { $0.hasSuffix(".ndjson") }.count >= 3)
            let running = try await server.start(port: port)
            for index in 300..<400 { shipper.enqueue(event(index)) }
            await shipper.wait { $0.shipped == 400 }
            await running.stop()
        }
        #expect(try once(numbers(server)) == Array(0..<400))
        #expect(shipper.counts.spooledBytes == 0 && shipper.counts.dropped == 0)
    }

    @Test func theSpoolOutlivesTheShipperAndIsSentByTheNextOne() async throws {
        let server = LiveEventServer(root: root)
        let port = try await closedPort(server)
        let target = EventTarget(url: "http://127.0.0.1:\(port)")
        let first = EventShipper(target: target, spoolDirectory: spool, limits: Self.quick, http: .shared, logger: Logger(label: "test"))
        try await whileRunning(first) {
            for index in 0..<150 { first.enqueue(event(index)) }
            await first.wait { $0.spooled == 150 }
        }
        let running = try await server.start(port: port)
        let second = EventShipper(target: target, spoolDirectory: spool, limits: Self.quick, http: .shared, logger: Logger(label: "test"))
        try await whileRunning(second) {
            second.enqueue(event(150))
            await second.wait { $0.shipped == 151 }
        }
        await running.stop()
        #expect(try once(numbers(server)) == Array(0...150))
    }

    @Test func anUnreadableSpoolSegmentIsGivenUpAndTheNextOnesAreSent() async throws {
        try FileManager.default.createDirectory(at: spool.appendingPathComponent("000000000001+apinode-query+churn.ndjson"), withIntermediateDirectories: true)
        try Data(#"{"n":7}"#.utf8 + [0x0A]).write(to: spool.appendingPathComponent("000000000002+apinode-query+churn.ndjson"))
        let server = LiveEventServer(root: root)
        let running = try await server.start()
        let shipper = EventShipper(target: EventTarget(url: running.url), spoolDirectory: spool, limits: Self.patient, http: .shared, logger: Logger(label: "test"))
        try await whileRunning(shipper) {
            await shipper.wait { $0.shipped == 1 && $0.spooledBytes == 0 }
        }
        await running.stop()
        #expect(try numbers(server) == [7])
    }

    @Test func aFullSpoolDropsWhatDoesNotFitAndCountsIt() async throws {
        let server = LiveEventServer(root: root)
        let port = try await closedPort(server)
        var limits = Self.quick
        limits.batchEvents = 10
        limits.spoolBytes = 1_000
        let shipper = EventShipper(target: EventTarget(url: "http://127.0.0.1:\(port)"), spoolDirectory: spool, limits: limits, http: .shared, logger: Logger(label: "test"))
        try await whileRunning(shipper) {
            for index in 0..<100 { shipper.enqueue(event(index)) }
            await shipper.wait { $0.spooled + $0.dropped == 100 }
        }
        #expect(shipper.counts.dropped > 0)
        #expect(shipper.counts.spooledBytes <= 1_000)
    }

    @Test func refusedEventsAreCountedAndNotRetried() async throws {
        let server = LiveEventServer(root: root, config: EventServerConfig(authKeys: ["the-right-key"]))
        let running = try await server.start()
        let shipper = EventShipper(
            target: EventTarget(url: running.url, authKey: "a-wrong-key"), spoolDirectory: spool, limits: Self.patient, http: .shared, logger: Logger(label: "test"))
        try await whileRunning(shipper) {
            for index in 0..<50 { shipper.enqueue(event(index)) }
            await shipper.wait { $0.refused == 50 }
            shipper.setAuthKey("the-right-key")
            shipper.enqueue(event(50))
            await shipper.wait { $0.shipped == 1 }
        }
        await running.stop()
        #expect(try numbers(server) == [50])
        #expect(shipper.counts.spooled == 0)
    }

    @Test func aFullQueueDropsAndCountsInsteadOfWaiting() async throws {
        var limits = Self.quick
        limits.queuedEvents = 10
        let shipper = EventShipper(target: EventTarget(url: "http://127.0.0.1:1"), spoolDirectory: spool, limits: limits, http: .shared, logger: Logger(label: "test"))
        for index in 0..<25 { shipper.enqueue(event(index)) }
        #expect(shipper.counts.dropped == 15)
    }

    @Test func withoutAnEventServerEventsGoToALocalFilePerTopicRoutingKeyAndDay() async throws {
        let date = Date(timeIntervalSince1970: 1_795_878_309)  // 2026-11-28
        let file = LocalEventFile(directory: folder, now: { date })
        let task = Task { try await file.run() }
        for index in 0..<20 { file.enqueue(ShippedEvent(topic: "deployer-audit", routingKey: "deployer", line: Array(#"{"n":\#(index)}"#.utf8))) }
        await file.wait { $0.shipped == 20 }
        file.finish()
        try await task.value
        let url = folder.appendingPathComponent("deployer-audit/deployer-2026-11-28.jsonl")
        #expect(file.file(topic: "deployer-audit", routingKey: "deployer", at: date) == url)
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
        #expect(try lines.map { try JSONValue.parse(String($0))["n"]?.intValue } == (0..<20).map { Int64($0) })
    }
}
