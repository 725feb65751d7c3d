import DeployerModel
import Foundation
import ServiceLifecycle

/// The local query log: one JSON line per query in `logs/queries-YYYY-MM-DD.jsonl` under the
/// data directory. Queries hand their event to a bounded queue and never wait; the writer
/// service takes everything queued at once and appends it with one write, then lingers a moment
/// so that under load one wake-up serves hundreds of queries rather than one (no fsync: this log is
/// informational; durable shipping to the event server comes with the query-logging issue), and
/// drains the queue when the node stops. Events beyond the bound are dropped and counted rather
/// than slowing queries down.
public struct QueryLog: Sendable {
    let queue: QueryLogQueue

    /// Events a burst may queue before new ones are dropped.
    public static let bufferLimit = 100_000

    /// How long the writer waits after a write before it takes the next batch.
    public static let linger: Duration = .milliseconds(20)

    /// Creates the log and the service that writes it.
    public static func make(directory: URL, bufferLimit: Int = bufferLimit) -> (QueryLog, QueryLogWriter) {
        let queue = QueryLogQueue(limit: bufferLimit)
        return (QueryLog(queue: queue), QueryLogWriter(queue: queue, directory: directory))
    }

    /// Queues an event; never blocks.
    public func record(_ event: JSONValue) { queue.append(event) }

    /// Events dropped because the queue was full.
    public var dropped: Int { queue.dropped }

    /// Ends the log: the writer drains what is queued, then returns.
    public func finish() { queue.finish() }
}

/// Appends queued events to the day's file, a batch at a time.
public struct QueryLogWriter: Service {
    let queue: QueryLogQueue
    let directory: URL

    /// Writes until graceful shutdown (or cancellation), then drains what is queued.
    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await withTaskCancellationHandler {
                try await write()
            } onCancel: {
                queue.finish()
            }
        } onGracefulShutdown: {
            queue.finish()
        }
    }

    private func write() async throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var handle: (day: String, file: FileHandle)?
        defer { try? handle?.file.close() }
        var lines: [UInt8] = []
        func flush() throws {
            if !lines.isEmpty { try handle?.file.write(contentsOf: lines) }
            lines.removeAll(keepingCapacity: true)
        }
        while let batch = await queue.next() {
            for event in batch {
                let day = (event["timestamp"]?.stringValue ?? "").prefix(10).description
                if handle?.day != day {
                    try flush()
                    try handle?.file.close()
                    let url = directory.appendingPathComponent("queries-\(day.isEmpty ? "undated" : day).jsonl")
                    if !FileManager.default.fileExists(atPath: url.path) { _ = FileManager.default.createFile(atPath: url.path, contents: nil) }
                    let file = try FileHandle(forWritingTo: url)
                    try file.seekToEnd()
                    handle = (day, file)
                }
                event.write(into: &lines, sortingKeys: false)
                lines.append(UInt8(ascii: "\n"))
            }
            try flush()
            // Cancellation (the node stopping) ends the wait early; the queue is drained either way.
            try? await Task.sleep(for: QueryLog.linger)
        }
    }
}

/// A bounded multi-producer queue whose single consumer takes everything queued at once.
final class QueryLogQueue: @unchecked Sendable {
    private let lock = NSLock()
    private let limit: Int
    private var events: [JSONValue] = []
    private var waiter: CheckedContinuation<[JSONValue]?, Never>?
    private var finished = false
    private var droppedCount = 0

    init(limit: Int) { self.limit = limit }

    /// Queues `event`, or counts it as dropped when the queue is full or finished.
    func append(_ event: JSONValue) {
        let resumed: CheckedContinuation<[JSONValue]?, Never>? = lock.withLock {
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
    func next() async -> [JSONValue]? {
        await withCheckedContinuation { continuation in
            let ready: [JSONValue]?? = lock.withLock {
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
        let resumed: CheckedContinuation<[JSONValue]?, Never>? = lock.withLock {
            finished = true
            defer { waiter = nil }
            return waiter
        }
        resumed?.resume(returning: nil)
    }

    var dropped: Int { lock.withLock { droppedCount } }

    private func take() -> [JSONValue] {
        lock.withLock {
            defer { events = [] }
            return events
        }
    }
}
