import Foundation

/// Folders of the repository and the shared references, found from this file's location.
enum RepositoryPaths {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let specExamples = root.deletingLastPathComponent().appendingPathComponent("shared/spec-examples")
    static let quickstart = root.appendingPathComponent("examples/quickstart")
    static let crds = root.appendingPathComponent("manifests/crds")
    static let chartCRDs = root.appendingPathComponent("charts/apideployer/crds")
    static let manifestSamples = root.appendingPathComponent("manifests/samples")

    static func yamlFiles(in folder: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "yaml" }.sorted { $0.lastPathComponent < $1.lastPathComponent }
    }
}
