#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Appends lines to event files and acknowledges them only once they are on disk. One writer
/// thread takes every batch queued while it was busy and commits them together: one write per
/// file and one `fsync` per touched file for all of them (group commit). A failed commit is
/// undone (files truncated back), so nothing of a refused batch stays stored.
final class DurableAppender: @unchecked Sendable {
    /// The lines of one request for the files of `folder` (relative to the root).
    struct Record: Sendable {
        let folder: String
        let lines: [[UInt8]]
    }

    private struct Waiter {
        let records: [Record]
        let continuation: CheckedContinuation<Void, any Error>
    }

    private let root: URL
    private let maxFileBytes: Int
    private let compressor: EventFileCompressor?
    private let onCommit: @Sendable (_ events: Int, _ bytes: Int, _ duration: Duration) -> Void
    private let condition = NSCondition()
    private var waiting: [Waiter] = []
    private var stopping = false
    private var thread: Thread?
    /// Touched only by the writer thread.
    private var files: [String: EventFile] = [:]

    /// Closed files are handed to `compressor`, if given.
    init(root: URL, maxFileBytes: Int, compressor: EventFileCompressor? = nil, onCommit: @escaping @Sendable (Int, Int, Duration) -> Void) {
        self.root = root
        self.maxFileBytes = maxFileBytes
        self.compressor = compressor
        self.onCommit = onCommit
        let thread = Thread { [self] in writeLoop() }
        thread.name = "eventserver-writer"
        self.thread = thread
        thread.start()
    }

    /// Returns once every record is durably written; throws if the commit failed (then none is).
    func append(_ records: [Record]) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            condition.lock()
            defer { condition.unlock() }
            guard !stopping else {
                continuation.resume(throwing: AppendError.stopped)
                return
            }
            waiting.append(Waiter(records: records, continuation: continuation))
            condition.signal()
        }
    }

    /// Commits what is queued, then stops the writer; later appends are refused.
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func writeLoop() {
        while true {
            condition.lock()
            while waiting.isEmpty && !stopping { condition.wait() }
            let batch = waiting
            waiting = []
            let done = batch.isEmpty && stopping
            condition.unlock()
            if done { break }
            let started = ContinuousClock.now
            do {
                let (bytes, closed) = try commit(batch.flatMap(\.records))
                onCommit(batch.reduce(0) { $0 + $1.records.reduce(0) { $0 + $1.lines.count } }, bytes, ContinuousClock.now - started)
                for waiter in batch { waiter.continuation.resume() }
                for path in closed { compressor?.compressLater(path) }
            } catch {
                for waiter in batch { waiter.continuation.resume(throwing: error) }
            }
        }
        for file in files.values { file.close() }
        files = [:]
    }

    /// Writes and syncs the records, opening the folder's next file before a line would take
    /// the current one past `maxFileBytes`; on failure truncates every touched file back.
    /// Returns the bytes written and the files closed by rotation.
    private func commit(_ records: [Record]) throws -> (bytes: Int, closed: [String]) {
        var lines: [String: [[UInt8]]] = [:]
        var order: [String] = []
        var bytes = 0
        for record in records {
            if lines[record.folder] == nil { order.append(record.folder) }
            lines[record.folder, default: []] += record.lines
            bytes += record.lines.reduce(0) { $0 + $1.count }
        }
        var touched: [String: (file: EventFile, sizeBefore: Int)] = [:]
        var retired: [EventFile] = []
        defer { for file in retired { file.close() } }
        func write(_ chunk: [UInt8], to file: EventFile) throws {
            guard !chunk.isEmpty else { return }
            if touched[file.path] == nil { touched[file.path] = (file, file.size) }
            try file.append(chunk)
        }
        do {
            for folder in order {
                var file = try current(folder)
                var chunk: [UInt8] = []
                for line in lines[folder]! {
                    let pending = file.size + chunk.count
                    if pending > 0, pending + line.count > maxFileBytes {
                        try write(chunk, to: file)
                        chunk = []
                        retired.append(file)
                        file = try EventFile.create(folder: root.appendingPathComponent(folder), sequence: file.sequence + 1)
                        files[folder] = file
                    }
                    chunk += line
                }
                try write(chunk, to: file)
            }
            for (file, _) in touched.values { try file.sync() }
            return (bytes, retired.map(\.path))
        } catch {
            for (file, sizeBefore) in touched.values { file.truncate(to: sizeBefore) }
            throw error
        }
    }

    private func current(_ folder: String) throws -> EventFile {
        if let open = files[folder] { return open }
        let file = try EventFile.openNewest(folder: root.appendingPathComponent(folder))
        files[folder] = file
        return file
    }

    enum AppendError: Error, CustomStringConvertible {
        case stopped
        var description: String { "the event server is stopping" }
    }
}
