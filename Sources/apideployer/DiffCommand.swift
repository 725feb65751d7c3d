import ArgumentParser
import CloudHTTP
import DeployerModel

/// `apideployer diff -f`: what applying the files would change, computed by a server-side dry
/// run against the live objects. Exits 0 without differences, 1 with some (like kubectl diff).
struct DiffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "diff", abstract: "Show what apply would change.")

    @OptionGroup var client: ClientOptions

    @Option(name: [.short, .customLong("filename")], help: "File, folder or - (repeatable).")
    var filenames: [String] = []

    @Option(help: "Field manager used for the dry run.")
    var fieldManager = "apideployer"

    func run() async throws {
        let manifests = try ManifestReader.read(filenames)
        let changed = try await client.withClient { client in
            var changed = false
            for manifest in manifests {
                let namespace = manifest.document["metadata"]?["namespace"]?.stringValue ?? client.namespace
                let path = APIPaths.object(manifest.kind, namespace: namespace, name: manifest.name)
                let live = try await client.send(.GET, path)
                let before: JSONValue? = live.status == 404 ? nil : try live.checked()
                let after = try await client.send(
                    .PATCH, path, query: ["fieldManager": fieldManager, "force": "true", "dryRun": "All", "fieldValidation": "Strict"],
                    body: manifest.document.serialized(), contentType: "application/apply-patch+yaml"
                ).checked()
                let oldLines = before.map { Self.comparable($0).yamlString().split(separator: "\n").map(String.init) } ?? []
                let newLines = Self.comparable(after).yamlString().split(separator: "\n").map(String.init)
                guard oldLines != newLines else { continue }
                changed = true
                print("--- live/\(manifest.kind.plural)/\(manifest.name)")
                print("+++ merged/\(manifest.kind.plural)/\(manifest.name)")
                LineDiff.unified(oldLines, newLines).forEach { print($0) }
            }
            return changed
        }
        if changed { throw ExitCode(1) }
    }

    /// The object without fields that change on every write.
    static func comparable(_ object: JSONValue) -> JSONValue {
        var copy = object
        for field in ["managedFields", "resourceVersion", "generation", "uid", "creationTimestamp"] { copy["metadata"]?[field] = nil }
        return copy
    }
}

/// A minimal line diff (longest common subsequence), printed with `-`, `+` and ` ` prefixes.
enum LineDiff {
    static func unified(_ old: [String], _ new: [String]) -> [String] {
        var lengths = Array(repeating: Array(repeating: 0, count: new.count + 1), count: old.count + 1)
        for i in stride(from: old.count - 1, through: 0, by: -1) {
            for j in stride(from: new.count - 1, through: 0, by: -1) {
                lengths[i][j] = old[i] == new[j] ? lengths[i + 1][j + 1] + 1 : max(lengths[i + 1][j], lengths[i][j + 1])
            }
        }
        var output: [String] = []
        var i = 0
        var j = 0
        while i < old.count || j < new.count {
            if i < old.count, j < new.count, old[i] == new[j] {
                output.append("  " + old[i])
                i += 1
                j += 1
            } else if j < new.count, i == old.count || lengths[i][j + 1] >= lengths[i + 1][j] {
                output.append("+ " + new[j])
                j += 1
            } else {
                output.append("- " + old[i])
                i += 1
            }
        }
        return output
    }
}
