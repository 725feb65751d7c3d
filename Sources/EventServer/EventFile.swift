#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// One open `events-NNNNN.jsonl` file of a folder, appended to by the writer thread only.
final class EventFile {
    let path: String
    let sequence: Int
    private(set) var size: Int
    private let descriptor: Int32

    private init(path: String, sequence: Int, descriptor: Int32) throws {
        self.path = path
        self.sequence = sequence
        self.descriptor = descriptor
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw EventFileError(path: path, operation: "stat", code: errno) }
        size = Int(status.st_size)
    }

    static func name(sequence: Int) -> String {
        let number = String(sequence)
        return "events-" + String(repeating: "0", count: max(0, 5 - number.count)) + number + ".jsonl"
    }

    /// The sequence number of `events-NNNNN.jsonl` or its compressed `.jsonl.gz`.
    static func sequence(of name: String) -> Int? {
        guard name.hasPrefix("events-") else { return nil }
        let rest = name.dropFirst("events-".count)
        for suffix in [".jsonl", ".jsonl.gz"] where rest.hasSuffix(suffix) { return Int(rest.dropLast(suffix.count)) }
        return nil
    }

    /// The folder's newest file (a new one after a compressed newest), or its first one when it has none (the folder is created).
    static func openNewest(folder: URL) throws -> EventFile {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        let newest = names.compactMap(sequence(of:)).max()
        guard let newest else { return try create(folder: folder, sequence: 1) }
        let path = folder.appendingPathComponent(name(sequence: newest)).path
        guard FileManager.default.fileExists(atPath: path) else { return try create(folder: folder, sequence: newest + 1) }
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard descriptor >= 0 else { throw EventFileError(path: path, operation: "open", code: errno) }
        return try EventFile(path: path, sequence: newest, descriptor: descriptor)
    }

    /// Creates the file (and its folders) durably: the new directory entries are synced too.
    static func create(folder: URL, sequence: Int) throws -> EventFile {
        var missing: [URL] = []
        var ancestor = folder
        while !FileManager.default.fileExists(atPath: ancestor.path) {
            missing.append(ancestor)
            ancestor = ancestor.deletingLastPathComponent()
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent(name(sequence: sequence)).path
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw EventFileError(path: path, operation: "create", code: errno) }
        let file = try EventFile(path: path, sequence: sequence, descriptor: descriptor)
        for directory in [folder] + missing.map({ $0.deletingLastPathComponent() }) { try synchronize(directory.path) }
        return file
    }

    func append(_ bytes: [UInt8]) throws {
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + written, bytes.count - written) }
            if result < 0 {
                if errno == EINTR { continue }
                throw EventFileError(path: path, operation: "write", code: errno)
            }
            written += result
        }
        size += bytes.count
    }

    func sync() throws {
        guard fsync(descriptor) == 0 else { throw EventFileError(path: path, operation: "fsync", code: errno) }
    }

    func truncate(to length: Int) {
        if ftruncate(descriptor, off_t(length)) == 0 { size = length }
    }

    func close() { _ = Glibc.close(descriptor) }

    /// Flushes a file's or a folder's content (a folder: its entries) to disk.
    static func synchronize(_ path: String) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw EventFileError(path: path, operation: "open", code: errno) }
        defer { _ = Glibc.close(descriptor) }
        guard fsync(descriptor) == 0 else { throw EventFileError(path: path, operation: "fsync", code: errno) }
    }
}

/// A file operation that failed, with the system's reason.
struct EventFileError: Error, CustomStringConvertible {
    let path: String
    let operation: String
    let code: Int32
    var description: String { "\(operation) \(path): \(String(cString: strerror(code)))" }
}
