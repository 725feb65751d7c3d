import Foundation
import SystemZlib

/// SageMaker's model artifact: a `model.tar.gz` holding the package as `package.zip`, which
/// SageMaker extracts into `/opt/ml/model` (the node then serves
/// `/opt/ml/model/package.zip`). A single-file ustar archive, gzip-compressed with zlib.
enum ModelArchive {
    static let memberName = "package.zip"

    /// Writes the artifact for `package` to a new temporary file and returns its bytes.
    static func bytes(wrapping package: URL) throws -> [UInt8] {
        let contents = try Data(contentsOf: package)
        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("model-\(UUID().uuidString).tar.gz")
        defer { try? FileManager.default.removeItem(at: temporary) }
        guard let output = gzopen(temporary.path, "wb6") else { throw ModelArchiveError("cannot write \(temporary.path)") }
        var tar = header(size: contents.count)
        tar.append(contentsOf: contents)
        tar.append(contentsOf: [UInt8](repeating: 0, count: (512 - contents.count % 512) % 512 + 1024))
        let written = tar.withUnsafeBytes { gzwrite(output, $0.baseAddress, UInt32($0.count)) }
        guard gzclose(output) == Z_OK, written == Int32(tar.count) else { throw ModelArchiveError("cannot compress the model artifact") }
        return Array(try Data(contentsOf: temporary))
    }

    /// The 512-byte ustar header of `package.zip` (mode 0644, owner root, mtime 0).
    static func header(size: Int) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int) {
            for (index, byte) in text.utf8.enumerated() { block[offset + index] = byte }
        }
        put(memberName, at: 0)
        put("0000644", at: 100)
        put("0000000", at: 108)
        put("0000000", at: 116)
        put(String(format: "%011o", size), at: 124)
        put("00000000000", at: 136)
        put("        ", at: 148)
        put("0", at: 156)
        put("ustar", at: 257)
        put("00", at: 263)
        put("root", at: 265)
        put("root", at: 297)
        let checksum = block.reduce(0) { $0 + Int($1) }
        put(String(format: "%06o", checksum) + "\0 ", at: 148)
        return block
    }
}

struct ModelArchiveError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
