import DeployerModel
import Foundation

/// One object read from a manifest file.
struct Manifest {
    let source: String
    let kind: ResourceKind
    var document: JSONValue

    var name: String { document["metadata"]?["name"]?.stringValue ?? "" }
}

/// Reads manifests from files, folders (`*.yaml`, `*.yml`, `*.json`, sorted by name) or `-`.
enum ManifestReader {
    static func read(_ paths: [String]) throws -> [Manifest] {
        var manifests: [Manifest] = []
        for path in paths {
            for file in try files(at: path) {
                let text: String
                if file == "-" {
                    text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
                } else {
                    guard let contents = try? String(contentsOfFile: file, encoding: .utf8) else {
                        throw CLIError("cannot read \(file)")
                    }
                    text = contents
                }
                let documents: [JSONValue]
                do {
                    documents = try JSONValue.parseYAMLDocuments(text)
                } catch {
                    throw CLIError("\(file): \(error)")
                }
                for (position, document) in documents.enumerated() {
                    manifests.append(try manifest(document, source: "\(file) (document \(position + 1))"))
                }
            }
        }
        return manifests
    }

    private static func manifest(_ document: JSONValue, source: String) throws -> Manifest {
        guard let kindName = document["kind"]?.stringValue else { throw CLIError("\(source): missing \"kind\"") }
        guard let apiVersion = document["apiVersion"]?.stringValue else { throw CLIError("\(source): missing \"apiVersion\"") }
        guard apiVersion == ResourceKind.apiVersion, let kind = ResourceKind.byKind(kindName) else {
            throw CLIError("\(source): no kind \"\(kindName)\" is registered for version \"\(apiVersion)\"")
        }
        guard let name = document["metadata"]?["name"]?.stringValue, !name.isEmpty else {
            throw CLIError("\(source): metadata.name is required")
        }
        return Manifest(source: source, kind: kind, document: document)
    }

    private static func files(at path: String) throws -> [String] {
        if path == "-" { return ["-"] }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CLIError("the path \"\(path)\" does not exist")
        }
        guard isDirectory.boolValue else { return [path] }
        let entries = try FileManager.default.contentsOfDirectory(atPath: path)
        return entries.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") || $0.hasSuffix(".json") }.sorted()
            .map { (path as NSString).appendingPathComponent($0) }
    }
}
