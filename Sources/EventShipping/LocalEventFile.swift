import DeployerModel
import Foundation
import ServiceLifecycle

/// Events kept on this machine when no event server is configured: one JSON line each in
/// `<directory>/<topic>/<routing-key>-YYYY-MM-DD.jsonl` (UTC day of writing), appended in
/// batches, each batch fsynced before the next is taken. Events beyond the queue bound are
/// dropped and counted.
public final class LocalEventFile: EventSink, Sendable {
    private let queue: ShippingQueue
    private let counters = ShippingCounters()
    private let directory: URL
    private let now: @Sendable () -> Date

    public init(directory: URL, queuedEvents: Int = 100_000, now: @escaping @Sendable () -> Date = Date.init) {
        queue = ShippingQueue(limit: queuedEvents)
        self.directory = directory
        self.now = now
    }

    public func enqueue(_ event: ShippedEvent) {
        if !queue.append(event) { counters.update { $0.dropped += 1 } }
    }

    /// Events written (`shipped`) and dropped so far.
    public var counts: ShippingCounts { counters.current }

    /// Returns once `condition` holds for the counts.
    public func wait(until condition: @escaping @Sendable (ShippingCounts) -> Bool) async { await counters.wait(until: condition) }

    /// Stops taking events; `run` writes what is queued, then returns.
    public func finish() { queue.finish() }

    /// The file an event of `topic` and `routingKey` written at `date` goes to.
    public func file(topic: String, routingKey: String, at date: Date) -> URL {
        directory.appendingPathComponent(topic).appendingPathComponent("\(routingKey)-\(MillisecondTimestamp.format(date, zone: "Z").prefix(10)).jsonl")
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            while true {
                if queue.count == 0 {
                    if queue.isFinished { return }
                    await queue.waitForEvents()
                }
                let batch = queue.take(Int.max)
                guard !batch.isEmpty else { continue }
                try write(batch)
                counters.update { $0.shipped += batch.count }
            }
        } onGracefulShutdown: {
            self.queue.finish()
        }
    }

    private func write(_ batch: [ShippedEvent]) throws {
        var files: [URL: [UInt8]] = [:]
        let date = now()
        for event in batch {
            files[file(topic: event.topic, routingKey: event.routingKey, at: date), default: []] += event.line + [UInt8(ascii: "\n")]
        }
        for (url, bytes) in files {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            let descriptor = open(url.path, O_WRONLY | O_APPEND | O_CREAT, 0o600)
            guard descriptor >= 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path]) }
            defer { close(descriptor) }
            let written = bytes.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
            guard written == bytes.count, fsync(descriptor) == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path]) }
        }
    }
}
