#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import SystemZlib

/// Gzips closed event files (`events-NNNNN.jsonl` → `events-NNNNN.jsonl.gz`) on a thread of its
/// own at a lower priority (nice 10) and the fastest level, so that under load compression
/// yields the cores to ingest and catches up when it is quieter; commits never wait for it.
/// Crash-safe: the gzip is written as `.gz.tmp`, synced and renamed (folder synced) before the
/// original is removed; at start, a leftover `.gz.tmp` is removed and an original whose `.gz`
/// exists is removed.
final class EventFileCompressor: @unchecked Sendable {
    private let logger: Logger
    private let condition = NSCondition()
    private var jobs: [String] = []
    private var busy = false
    private var stopping = false

    init(logger: Logger) {
        self.logger = logger
        let thread = Thread { [self] in
            // On Linux the nice value is per thread: this lowers the compressor alone.
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
            work()
        }
        thread.name = "eventserver-compress"
        thread.start()
    }

    /// Compresses the file soon; a failure is logged and the file stays as it is.
    func compressLater(_ path: String) {
        condition.lock()
        jobs.append(path)
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until every queued compression is done.
    func drain() {
        condition.lock()
        while !jobs.isEmpty || busy { condition.wait() }
        condition.unlock()
    }

    /// Ends the thread once the queued compressions are done (what is left is picked up at the
    /// next start).
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            guard !jobs.isEmpty else {
                condition.unlock()
                return
            }
            let path = jobs.removeFirst()
            busy = true
            condition.unlock()
            do {
                try Self.compress(path)
            } catch {
                logger.error("cannot compress \(path): \(error)")
            }
            condition.lock()
            busy = false
            condition.broadcast()
            condition.unlock()
        }
    }

    static func compress(_ path: String) throws {
        let target = path + ".gz"
        let temporary = target + ".tmp"
        guard let output = gzopen(temporary, "wb1") else { throw EventFileError(path: temporary, operation: "gzopen", code: errno) }
        do {
            let input = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? input.close() }
            while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
                let written = chunk.withUnsafeBytes { gzwrite(output, $0.baseAddress, UInt32($0.count)) }
                guard written == Int32(chunk.count) else { throw EventFileError(path: temporary, operation: "gzwrite", code: errno) }
            }
        } catch {
            gzclose(output)
            unlink(temporary)
            throw error
        }
        guard gzclose(output) == Z_OK else { throw EventFileError(path: temporary, operation: "gzclose", code: errno) }
        try EventFile.synchronize(temporary)
        guard rename(temporary, target) == 0 else { throw EventFileError(path: target, operation: "rename", code: errno) }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        try EventFile.synchronize(folder.path)
        guard unlink(path) == 0 else { throw EventFileError(path: path, operation: "unlink", code: errno) }
        try EventFile.synchronize(folder.path)
    }

    /// Finishes what a crash interrupted under `root` and returns the closed files still to
    /// compress: every `.jsonl` but the newest of its folder.
    static func recover(root: URL) throws -> [String] {
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { return [] }
        var byFolder: [URL: [(sequence: Int, path: String)]] = [:]
        for case let url as URL in walker {
            let path = url.path
            if path.hasSuffix(".jsonl.gz.tmp") {
                unlink(path)
            } else if path.hasSuffix(".jsonl"), let sequence = EventFile.sequence(of: url.lastPathComponent) {
                if FileManager.default.fileExists(atPath: path + ".gz") {
                    unlink(path)
                } else {
                    byFolder[url.deletingLastPathComponent(), default: []].append((sequence, path))
                }
            }
        }
        return byFolder.values.flatMap { files in files.sorted { $0.sequence < $1.sequence }.dropLast().map(\.path) }
    }

    /// The whole content of a gzip file.
    static func decompress(_ path: String) throws -> [UInt8] {
        guard let input = gzopen(path, "rb") else { throw EventFileError(path: path, operation: "gzopen", code: errno) }
        defer { gzclose(input) }
        var content: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { gzread(input, $0.baseAddress, UInt32($0.count)) }
            guard count >= 0 else { throw EventFileError(path: path, operation: "gzread", code: errno) }
            if count == 0 { return content }
            content += buffer[0..<Int(count)]
        }
    }
}
