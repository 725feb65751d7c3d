import Crypto
import DeployerCore
import DeployerModel
import Foundation

/// A `PackageStore` in a directory: `SHA256.zip` with `SHA256.json` (its entry) beside it.
/// Files are written under a temporary name, synced and renamed, so a crash leaves no half
/// archive under a digest name.
public struct DirectoryPackageStore: PackageStore {
    public let directory: URL

    public init(directory: URL) throws {
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    public func file(sha256: String) -> URL? {
        guard Self.isDigest(sha256) else { return nil }
        let url = directory.appendingPathComponent("\(sha256).zip")
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    public func add(_ file: URL, service: String, version: String) throws -> PackageEntry {
        let digest = try Self.sha256(of: file)
        let size = (try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? NSNumber)?.int64Value ?? 0
        let entry = PackageEntry(sha256: digest, size: size, service: service, version: version, added: WriteRules.timestamp(Date()))
        if self.file(sha256: digest) != nil, let existing = try? read(digest) { return existing }
        let archive = directory.appendingPathComponent("\(digest).zip")
        let staged = directory.appendingPathComponent(".\(digest).zip.\(UUID().uuidString)")
        try FileManager.default.copyItem(at: file, to: staged)
        let handle = try FileHandle(forUpdating: staged)
        try handle.synchronize()
        try handle.close()
        let metadata = directory.appendingPathComponent("\(digest).json")
        try JSONEncoder().encode(entry).write(to: metadata, options: .atomic)
        guard rename(staged.path, archive.path) == 0 else { throw PackageRefused("cannot store the archive") }
        return entry
    }

    public func list() throws -> [PackageEntry] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".zip") && !$0.hasPrefix(".") }
            .compactMap { try? read(String($0.dropLast(4))) }
            .sorted { ($0.added, $0.sha256) > ($1.added, $1.sha256) }
    }

    private func read(_ digest: String) throws -> PackageEntry {
        try JSONDecoder().decode(PackageEntry.self, from: Data(contentsOf: directory.appendingPathComponent("\(digest).json")))
    }

    /// The lowercase hex SHA-256 of a file, read in chunks.
    public static func sha256(of file: URL) throws -> String {
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hasher.finalize().hexString
    }

    static func isDigest(_ text: String) -> Bool {
        text.count == 64 && text.allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }
}
