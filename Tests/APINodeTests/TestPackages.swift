import APINode
import Foundation

/// Package archives for the tests: text files by path, and optionally a Python script (run with
/// the test peers' Python, the package folder as its argument) that makes the binary ones.
enum TestPackages {
    static func archive(files: [String: String], script: String? = nil) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pkg-\(UUID().uuidString)")
        for (path, text) in files {
            let file = folder.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: file, atomically: true, encoding: .utf8)
        }
        if let script {
            let scriptFile = folder.deletingLastPathComponent().appendingPathComponent("make-\(UUID().uuidString).py")
            try script.write(to: scriptFile, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: scriptFile) }
            try PackageTests.python([scriptFile.path, folder.path])
        }
        let url = folder.deletingLastPathComponent().appendingPathComponent("\(UUID().uuidString).zip")
        try PackageArchive.build(folder: folder, to: url)
        return url
    }
}
