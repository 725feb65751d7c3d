import DeployerModel
import Foundation
import ServiceLifecycle

/// The local query log: one JSON line per query in `logs/queries-YYYY-MM-DD.jsonl` under the
/// data directory. Queries hand their event to a bounded buffer and never wait; the writer
/// service appends each event as it arrives (no fsync: this log is informational; durable
/// shipping to the event server comes with the query-logging issue) and drains the buffer
/// when the node stops. Events beyond the buffer are dropped and counted rather than slowing
/// queries down.
public struct QueryLog: Sendable {
    let continuation: AsyncStream<JSONValue>.Continuation
    let droppedCounter: DroppedCounter

    /// Events a burst may queue before new ones are dropped.
    public static let bufferLimit = 100_000

    /// Creates the log and the service that writes it.
    public static func make(directory: URL) -> (QueryLog, QueryLogWriter) {
        let (stream, continuation) = AsyncStream<JSONValue>.makeStream(bufferingPolicy: .bufferingOldest(bufferLimit))
        let counter = DroppedCounter()
        return (
            QueryLog(continuation: continuation, droppedCounter: counter),
            QueryLogWriter(events: stream, continuation: continuation, directory: directory)
        )
    }

    /// Queues an event; never blocks.
    public func record(_ event: JSONValue) {
        if case .dropped = continuation.yield(event) { droppedCounter.increment() }
    }

    /// Events dropped because the buffer was full.
    public var dropped: Int { droppedCounter.value }

    /// Ends the log: the writer drains what is queued, then returns.
    public func finish() { continuation.finish() }
}

/// Appends queued events to the day's file.
public struct QueryLogWriter: Service {
    let events: AsyncStream<JSONValue>
    let continuation: AsyncStream<JSONValue>.Continuation
    let directory: URL

    /// Writes until graceful shutdown, then drains what is queued.
    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await write()
        } onGracefulShutdown: {
            continuation.finish()
        }
    }

    private func write() async throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var handle: (day: String, file: FileHandle)?
        defer { try? handle?.file.close() }
        var line: [UInt8] = []
        for await event in events {
            let day = (event["timestamp"]?.stringValue ?? "").prefix(10).description
            if handle?.day != day {
                try handle?.file.close()
                let url = directory.appendingPathComponent("queries-\(day.isEmpty ? "undated" : day).jsonl")
                if !FileManager.default.fileExists(atPath: url.path) { _ = FileManager.default.createFile(atPath: url.path, contents: nil) }
                let file = try FileHandle(forWritingTo: url)
                try file.seekToEnd()
                handle = (day, file)
            }
            line.removeAll(keepingCapacity: true)
            event.write(into: &line)
            line.append(UInt8(ascii: "\n"))
            try handle?.file.write(contentsOf: line)
        }
    }
}

/// A thread-safe counter.
final class DroppedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
