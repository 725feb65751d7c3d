import AsyncHTTPClient
import DeployerModel
import EventShipping
import Foundation
import Logging
import ServiceLifecycle

/// The node's query log. Queries hand their event to a bounded queue and never wait; one writer
/// takes everything queued at once. Events of services with `logging` settings go to their event
/// servers through an `EventShipper` each (batches, retries, a disk spool under `spool/` while a
/// server is unreachable); the others are appended to `logs/queries-YYYY-MM-DD.jsonl` (no fsync:
/// that file is informational; its pages leave the page cache as it grows, see `QueryLogFile`).
/// The writer lingers a moment after each batch so that under load one wake-up serves hundreds
/// of queries, and drains everything when the node stops. Events beyond the bound are dropped
/// and counted rather than slowing queries down.
public struct QueryLog: Sendable {
    let queue: QueryLogQueue
    let shippers: ShipperRegistry

    /// Events a burst may queue before new ones are dropped.
    public static let bufferLimit = 100_000

    /// How long the writer waits after a write before it takes the next batch.
    public static let linger: Duration = .milliseconds(20)

    /// Creates the log and the service that writes it; `targets` are the event servers the
    /// services use now (their spools left by an earlier run are replayed at once).
    public static func make(
        dataDirectory: URL, targets: [EventTarget] = [], limits: ShippingLimits = ShippingLimits(), http: HTTPClient = .shared,
        logger: Logger = Logger(label: "apinode.querylog"), bufferLimit: Int = bufferLimit
    ) -> (QueryLog, QueryLogWriter) {
        let queue = QueryLogQueue(limit: bufferLimit)
        let shippers = ShipperRegistry(spoolDirectory: dataDirectory.appendingPathComponent("spool"), limits: limits, http: http, logger: logger)
        let writer = QueryLogWriter(
            queue: queue, shippers: shippers, initialTargets: targets, directory: dataDirectory.appendingPathComponent("logs"))
        return (QueryLog(queue: queue, shippers: shippers), writer)
    }

    /// Queues an event for the service's logging settings (nil: the local file); never blocks.
    /// The event is written out here, on the query's thread, so the writer only moves bytes.
    public func record(_ event: QueryEvent, logging: QueryLogging?) {
        queue.append(QueuedEvent(line: event.line, day: event.day, logging: logging))
    }

    /// Events dropped because the queue was full.
    public var dropped: Int { queue.dropped }

    /// What each event server's shipper has done, by URL.
    public var shipping: [(url: String, counts: ShippingCounts)] { shippers.all.map { ($0.target.url, $0.counts) } }

    /// Ends the log: the writer drains what is queued, then returns.
    public func finish() { queue.finish() }
}

/// One queued query event and where it goes.
struct QueuedEvent: Sendable {
    /// The event's JSON text (no newline).
    let line: [UInt8]
    /// `YYYY-MM-DD` of its timestamp: the local file it goes to.
    let day: String
    let logging: QueryLogging?
}

/// Writes queued events: to the local file, or to the shippers of their event servers.
public struct QueryLogWriter: Service {
    let queue: QueryLogQueue
    let shippers: ShipperRegistry
    let initialTargets: [EventTarget]
    let directory: URL

    /// Writes until graceful shutdown (or cancellation), then drains what is queued and lets
    /// every shipper send or spool what it holds.
    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await withTaskCancellationHandler {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for target in initialTargets { shippers.shipper(for: target, starting: &group) }
                    do {
                        try await write(&group)
                    } catch {
                        shippers.finishAll()
                        throw error
                    }
                    shippers.finishAll()
                    try await group.waitForAll()
                }
            } onCancel: {
                queue.finish()
            }
        } onGracefulShutdown: {
            queue.finish()
        }
    }

    private func write(_ group: inout ThrowingTaskGroup<Void, any Error>) async throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var file: QueryLogFile?
        defer { try? file?.close() }
        var lines: [UInt8] = []
        func flush() throws {
            try file?.append(lines)
            lines.removeAll(keepingCapacity: true)
        }
        while let batch = await queue.next() {
            for queued in batch {
                if let logging = queued.logging {
                    let line = queued.line
                    for target in logging.eventServers {
                        shippers.shipper(for: target, starting: &group).enqueue(ShippedEvent(topic: logging.topic, routingKey: logging.routingKey, line: line))
                    }
                    continue
                }
                if file?.day != queued.day {
                    try flush()
                    try file?.close()
                    file = try QueryLogFile(day: queued.day, directory: directory)
                }
                lines += queued.line
                lines.append(UInt8(ascii: "\n"))
            }
            try flush()
            // Cancellation (the node stopping) ends the wait early; the queue is drained either way.
            try? await Task.sleep(for: QueryLog.linger)
        }
    }
}

/// One shipper per event server URL, started in the writer's task group when first needed.
final class ShipperRegistry: @unchecked Sendable {
    private let lock = NSLock()
    private var shippers: [String: EventShipper] = [:]
    private let spoolDirectory: URL
    private let limits: ShippingLimits
    private let http: HTTPClient
    private let logger: Logger

    init(spoolDirectory: URL, limits: ShippingLimits, http: HTTPClient, logger: Logger) {
        self.spoolDirectory = spoolDirectory
        self.limits = limits
        self.http = http
        self.logger = logger
    }

    /// The shipper of `target`'s URL (its key updated), started in `group` if it is new.
    @discardableResult
    func shipper(for target: EventTarget, starting group: inout ThrowingTaskGroup<Void, any Error>) -> EventShipper {
        let (shipper, isNew): (EventShipper, Bool) = lock.withLock {
            if let existing = shippers[target.url] { return (existing, false) }
            let created = EventShipper(
                target: target, spoolDirectory: spoolDirectory.appendingPathComponent(target.spoolFolderName), limits: limits, http: http,
                logger: logger)
            shippers[target.url] = created
            return (created, true)
        }
        if isNew {
            // A shipper that cannot run (its spool folder cannot be made) says so; the others go on.
            group.addTask { [logger] in
                do {
                    try await shipper.run()
                } catch {
                    logger.error("query events to this event server are not shipped", metadata: ["eventServer": "\(target.url)", "error": "\(error)"])
                }
            }
        } else if shipper.target.authKey != target.authKey {
            shipper.setAuthKey(target.authKey)
        }
        return shipper
    }

    var all: [EventShipper] { lock.withLock { shippers.values.sorted { $0.target.url < $1.target.url } } }

    func finishAll() { for shipper in all { shipper.finish() } }
}

/// A bounded multi-producer queue whose single consumer takes everything queued at once.
final class QueryLogQueue: @unchecked Sendable {
    private let lock = NSLock()
    private let limit: Int
    private var events: [QueuedEvent] = []
    private var waiter: CheckedContinuation<[QueuedEvent]?, Never>?
    private var finished = false
    private var droppedCount = 0

    init(limit: Int) { self.limit = limit }

    /// Queues `event`, or counts it as dropped when the queue is full or finished.
    func append(_ event: QueuedEvent) {
        let resumed: CheckedContinuation<[QueuedEvent]?, Never>? = lock.withLock {
            guard !finished, events.count < limit else {
                droppedCount += 1
                return nil
            }
            events.append(event)
            defer { waiter = nil }
            return waiter
        }
        resumed?.resume(returning: take())
    }

    /// Everything queued, waiting while nothing is; nil once finished and drained.
    func next() async -> [QueuedEvent]? {
        await withCheckedContinuation { continuation in
            let ready: [QueuedEvent]?? = lock.withLock {
                if !events.isEmpty {
                    defer { events = [] }
                    return .some(events)
                }
                if finished { return .some(nil) }
                waiter = continuation
                return .none
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// No more events are accepted; the consumer gets what is queued, then nil.
    func finish() {
        let resumed: CheckedContinuation<[QueuedEvent]?, Never>? = lock.withLock {
            finished = true
            defer { waiter = nil }
            return waiter
        }
        resumed?.resume(returning: nil)
    }

    var dropped: Int { lock.withLock { droppedCount } }

    private func take() -> [QueuedEvent] {
        lock.withLock {
            defer { events = [] }
            return events
        }
    }
}
