import Crypto
import DeployerModel
import Foundation
import ZIPFoundation

/// Package archives: zip files with `service.yaml` at the root.
///
/// Archives are built deterministically — entries sorted, fixed timestamps and permissions —
/// so the same folder always gives the same bytes and the same sha256, which is what a
/// content-addressed package store needs.
public enum PackageArchive {
    /// Limits that keep a hostile archive from filling the disk.
    public static let maximumEntries = 10_000
    public static let maximumUncompressedBytes: Int64 = 4 * 1024 * 1024 * 1024

    /// Zips the files of `folder` (hidden files excluded) into `destination`.
    public static func build(folder: URL, to destination: URL) throws {
        let files = try regularFiles(in: folder)
        guard files.contains("service.yaml") else { throw PackageError.missingManifest(folder.path) }
        if FileManager.default.fileExists(atPath: destination.path) { try FileManager.default.removeItem(at: destination) }
        let archive = try Archive(url: destination, accessMode: .create)
        let fixedDate = Date(timeIntervalSince1970: 315_532_800)  // 1980-01-01, the earliest zip date
        for path in files {
            let data = try Data(contentsOf: folder.appendingPathComponent(path))
            try archive.addEntry(
                with: path, type: .file, uncompressedSize: Int64(data.count), modificationDate: fixedDate, permissions: 0o644,
                compressionMethod: .deflate
            ) { position, size in
                data.subdata(in: Int(position)..<(Int(position) + size))
            }
        }
    }

    /// Extracts `archive` into the empty folder `destination`, refusing entries that escape it,
    /// links, and archives beyond the size limits.
    public static func extract(_ archiveURL: URL, to destination: URL) throws {
        let archive: Archive
        do {
            archive = try Archive(url: archiveURL, accessMode: .read)
        } catch {
            throw PackageError.notAZip(archiveURL.lastPathComponent)
        }
        var count = 0
        var total: Int64 = 0
        for entry in archive {
            count += 1
            total += Int64(entry.uncompressedSize)
            guard entry.type != .symlink else { throw PackageError.unsafeEntry(entry.path, "links are not allowed") }
            guard count <= maximumEntries, total <= maximumUncompressedBytes else {
                throw PackageError.tooLarge("more than \(maximumEntries) entries or \(maximumUncompressedBytes) bytes")
            }
        }
        try FileManager.default.createDirectory(at: destination, withIntermediateDirectories: true)
        do {
            try FileManager.default.unzipItem(at: archiveURL, to: destination)
        } catch let error as CocoaError where error.code == .fileReadInvalidFileName {
            throw PackageError.unsafeEntry(error.userInfo[NSFilePathErrorKey] as? String ?? "?", "it would be written outside the package")
        }
    }

    /// Relative paths of the regular files below `folder`, sorted, hidden ones left out.
    public static func regularFiles(in folder: URL) throws -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: folder.path) else { throw PackageError.missingManifest(folder.path) }
        var files: [String] = []
        while let path = enumerator.nextObject() as? String {
            if path.split(separator: "/").contains(where: { $0.hasPrefix(".") }) { continue }
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent(path).path, isDirectory: &isDirectory), !isDirectory.boolValue {
                files.append(path)
            }
        }
        return files.sorted()
    }

    /// The lowercase hex SHA-256 of a file, read in chunks.
    public static func sha256(of url: URL) throws -> String {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hasher.finalize().hexString
    }
}

/// Why a package was refused.
public enum PackageError: Error, Sendable, Equatable, CustomStringConvertible {
    case missingManifest(String)
    case notAZip(String)
    case unsafeEntry(String, String)
    case tooLarge(String)
    case invalidManifest(String)
    case invalidEndpoint(endpoint: String, file: String, reason: String)

    public var description: String {
        switch self {
        case .missingManifest(let place): "no service.yaml at the root of \(place)"
        case .notAZip(let name): "\(name) is not a zip archive"
        case .unsafeEntry(let path, let reason): "refused entry \(path): \(reason)"
        case .tooLarge(let reason): "the package is too large: \(reason)"
        case .invalidManifest(let reason): reason
        case .invalidEndpoint(let endpoint, let file, let reason): "endpoint \"\(endpoint)\" (\(file)): \(reason)"
        }
    }
}
