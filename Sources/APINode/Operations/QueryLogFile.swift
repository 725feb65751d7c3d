import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The local query log of one day, `logs/queries-YYYY-MM-DD.jsonl`, appended to by the writer.
/// Its pages are handed back to the system as it grows: every `releaseStep` bytes the writer asks
/// the kernel (POSIX_FADV_DONTNEED) to start writing out what is new and to drop the pages
/// already written, so that a node under load does not fill the page cache with log lines nobody
/// reads back (on this project's VM, growing the cache into memory never touched before made
/// every appended byte several times dearer).
struct QueryLogFile {
    let day: String
    private let handle: FileHandle
    /// The file's length, and its length when its pages were last released.
    private var length: UInt64
    private var released: UInt64

    static let releaseStep: UInt64 = 8 << 20

    /// Opens (or creates) the file of `day` in `directory` for appending.
    init(day: String, directory: URL) throws {
        let url = directory.appendingPathComponent("queries-\(day).jsonl")
        if !FileManager.default.fileExists(atPath: url.path) { _ = FileManager.default.createFile(atPath: url.path, contents: nil) }
        handle = try FileHandle(forWritingTo: url)
        length = try handle.seekToEnd()
        released = length
        self.day = day
    }

    /// Appends `bytes`, then releases the cached pages when another step was written since.
    mutating func append(_ bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { return }
        try handle.write(contentsOf: bytes)
        length += UInt64(bytes.count)
        guard length - released >= Self.releaseStep else { return }
        #if canImport(Glibc)
            // The whole file each time: pages still being written out at one step go at a later
            // one, and the kernel only visits the pages the file still has in the cache.
            _ = posix_fadvise(handle.fileDescriptor, 0, 0, POSIX_FADV_DONTNEED)
        #endif
        released = length
    }

    func close() throws { try handle.close() }
}
