import AsyncHTTPClient
import Foundation
import Logging
import ServiceLifecycle

/// Ships events to one event server, behind a queue that callers never wait on.
///
/// Events are sent in batches (up to `batchEvents`, after waiting `linger` for more), one request
/// per topic and routing key. When the server cannot be reached, the batch and everything queued
/// after it go to a disk spool, and the spool is replayed oldest first, with backoff between
/// attempts, before anything newer is sent, so events arrive in order and at least once. A
/// refusal (wrong key, unknown topic) is counted and logged, not retried. At shutdown what is
/// still queued is sent, or spooled for the next start.
public final class EventShipper: Service, Sendable {
    private let queue: ShippingQueue
    private let counters = ShippingCounters()
    private let keyHolder: AuthKeyHolder
    private let url: String
    private let spoolDirectory: URL
    private let limits: ShippingLimits
    private let http: HTTPClient
    private let logger: Logger

    public init(target: EventTarget, spoolDirectory: URL, limits: ShippingLimits = ShippingLimits(), http: HTTPClient, logger: Logger) {
        queue = ShippingQueue(limit: limits.queuedEvents)
        keyHolder = AuthKeyHolder(target.authKey)
        url = target.url
        self.spoolDirectory = spoolDirectory
        self.limits = limits
        self.http = http
        self.logger = logger
    }

    /// The event server and the key used from the next request on.
    public var target: EventTarget { EventTarget(url: url, authKey: keyHolder.key) }

    /// Uses `key` from the next request on (the key was rotated).
    public func setAuthKey(_ key: String?) { keyHolder.key = key }

    /// Queues an event without waiting; counts it as dropped when the queue is full.
    public func enqueue(_ event: ShippedEvent) {
        if !queue.append(event) { counters.update { $0.dropped += 1 } }
    }

    /// What the shipper has done so far.
    public var counts: ShippingCounts { counters.current }

    /// Returns once `condition` holds for the counts.
    public func wait(until condition: @escaping @Sendable (ShippingCounts) -> Bool) async {
        await counters.wait(until: condition)
    }

    /// Stops taking events; `run` sends or spools what is queued, then returns.
    public func finish() { queue.finish() }

    public func run() async throws {
        var spool = try EventSpool(directory: spoolDirectory, limitBytes: limits.spoolBytes)
        counters.update { $0.spooledBytes = spool.totalBytes }
        await withGracefulShutdownHandler {
            var backoff = limits.firstBackoff
            while true {
                if spool.isEmpty {
                    guard let batch = await nextBatch() else { return }
                    let unsent = await send(batch)
                    if !unsent.isEmpty { spill(unsent, into: &spool) }
                    continue
                }
                // Replaying: nothing newer is sent before the spool is empty.
                spill(queue.take(Int.max), into: &spool)
                if queue.isFinished { return }
                if await replayOldest(&spool) {
                    backoff = limits.firstBackoff
                } else {
                    await pause(backoff)
                    backoff = min(backoff * 2, limits.longestBackoff)
                }
            }
        } onGracefulShutdown: {
            self.queue.finish()
        }
    }

    /// The next batch, after lingering for more events; nil once finished and drained.
    private func nextBatch() async -> [ShippedEvent]? {
        while true {
            if queue.count == 0 {
                if queue.isFinished { return nil }
                await queue.waitForEvents()
                if !queue.isFinished, queue.count < limits.batchEvents { try? await Task.sleep(for: limits.linger) }
            }
            let batch = queue.take(limits.batchEvents)
            if !batch.isEmpty { return batch }
        }
    }

    /// Sends a batch, one request per topic and routing key; returns what could not be sent
    /// because the server is unreachable (that group and every later one, in order).
    private func send(_ batch: [ShippedEvent]) async -> [ShippedEvent] {
        var groups: [(topic: String, routingKey: String, events: [ShippedEvent])] = []
        for event in batch {
            if let index = groups.firstIndex(where: { $0.topic == event.topic && $0.routingKey == event.routingKey }) {
                groups[index].events.append(event)
            } else {
                groups.append((event.topic, event.routingKey, [event]))
            }
        }
        for (index, group) in groups.enumerated() {
            var body: [UInt8] = []
            for event in group.events {
                body += event.line
                body.append(UInt8(ascii: "\n"))
            }
            switch await poster.post(topic: group.topic, routingKey: group.routingKey, body: body) {
            case .acknowledged:
                counters.update { $0.shipped += group.events.count; $0.reachable = true }
            case .refused(let message):
                refuse(group.events.count, topic: group.topic, routingKey: group.routingKey, message)
            case .unreachable(let message):
                logger.warning("event server unreachable; spooling events", metadata: ["eventServer": "\(url)", "error": "\(message)"])
                counters.update { $0.reachable = false }
                return groups[index...].flatMap(\.events)
            }
        }
        return []
    }

    /// Sends the oldest spooled segment; false when the server could not be reached.
    private func replayOldest(_ spool: inout EventSpool) async -> Bool {
        guard let oldest = spool.segments.first else { return true }
        let body: [UInt8]
        do {
            body = try spool.body(of: oldest)
        } catch {
            // An unreadable segment would stop every later one: it is given up, loudly.
            logger.error("cannot read a spool segment; it is dropped", metadata: ["segment": "\(oldest.url.path)", "error": "\(error)"])
            spool.removeOldest()
            counters.update { $0.spooledBytes = spool.totalBytes }
            return true
        }
        let lines = body.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
        switch await poster.post(topic: oldest.topic, routingKey: oldest.routingKey, body: body) {
        case .acknowledged:
            spool.removeOldest()
            counters.update { $0.shipped += lines; $0.reachable = true; $0.spooledBytes = spool.totalBytes }
            return true
        case .refused(let message):
            spool.removeOldest()
            refuse(lines, topic: oldest.topic, routingKey: oldest.routingKey, message)
            counters.update { $0.spooledBytes = spool.totalBytes }
            return true
        case .unreachable:
            counters.update { $0.reachable = false }
            return false
        }
    }

    private func spill(_ events: [ShippedEvent], into spool: inout EventSpool) {
        guard !events.isEmpty else { return }
        do {
            let refused = try spool.append(events, segmentEvents: limits.batchEvents)
            if refused > 0 { logger.error("the spool is full; events dropped", metadata: ["eventServer": "\(url)", "dropped": "\(refused)"]) }
            counters.update { $0.spooled += events.count - refused; $0.dropped += refused; $0.spooledBytes = spool.totalBytes }
        } catch {
            logger.error("cannot write the spool; events dropped", metadata: ["eventServer": "\(url)", "error": "\(error)"])
            counters.update { $0.dropped += events.count }
        }
    }

    private func refuse(_ count: Int, topic: String, routingKey: String, _ message: String) {
        logger.error(
            "the event server refused events; they are not retried",
            metadata: ["eventServer": "\(url)", "topic": "\(topic)", "routingKey": "\(routingKey)", "answer": "\(message)"])
        counters.update { $0.refused += count; $0.reachable = true }
    }

    /// Waits `duration` (with up to 20% jitter) in short steps, ending early once finished.
    private func pause(_ duration: Duration) async {
        let deadline = ContinuousClock.now + duration * Double.random(in: 0.8...1.0)
        while !queue.isFinished, ContinuousClock.now < deadline {
            try? await Task.sleep(for: min(.milliseconds(100), deadline - ContinuousClock.now))
        }
    }

    private var poster: EventPoster { EventPoster(target: target, http: http, timeout: limits.requestTimeout) }
}

/// The auth key, replaceable while requests are in flight.
final class AuthKeyHolder: @unchecked Sendable {
    private let lock = NSLock()
    private var value: String?

    init(_ key: String?) { value = key }

    var key: String? {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}
