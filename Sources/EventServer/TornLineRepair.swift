import Foundation

/// At start, cuts a last line that a crash left half-written: every stored line was acknowledged
/// only once whole and synced, so a file that does not end in a newline ends in a line nobody
/// was told was stored.
enum TornLineRepair {
    /// Repairs every event file under `root`; returns the paths it cut.
    static func repair(root: URL) throws -> [String] {
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { return [] }
        var repaired: [String] = []
        for case let url as URL in walker where url.pathExtension == "jsonl" {
            if try repairFile(url) { repaired.append(url.path) }
        }
        return repaired
    }

    /// Truncates the file after its last newline if it does not end with one.
    static func repairFile(_ url: URL) throws -> Bool {
        let handle = try FileHandle(forUpdating: url)
        defer { try? handle.close() }
        let size = try handle.seekToEnd()
        guard size > 0 else { return false }
        var end = size
        let chunk: UInt64 = 64 * 1024
        var isLast = true
        while end > 0 {
            let start = end > chunk ? end - chunk : 0
            try handle.seek(toOffset: start)
            let bytes = try handle.read(upToCount: Int(end - start)) ?? Data()
            if isLast, bytes.last == UInt8(ascii: "\n") { return false }
            isLast = false
            if let newline = bytes.lastIndex(of: UInt8(ascii: "\n")) {
                try handle.truncate(atOffset: start + UInt64(newline - bytes.startIndex) + 1)
                try handle.synchronize()
                return true
            }
            end = start
        }
        try handle.truncate(atOffset: 0)
        try handle.synchronize()
        return true
    }
}
