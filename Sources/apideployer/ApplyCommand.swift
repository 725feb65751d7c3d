import ArgumentParser
import CloudHTTP
import DeployerModel
import Foundation

/// `apideployer apply -f`: creates or updates every object in the files by server-side apply.
/// Every object is first checked by a server dry run; if any is refused, nothing is applied.
struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "apply", abstract: "Create or update objects from files.")

    @OptionGroup var client: ClientOptions

    @Option(name: [.short, .customLong("filename")], help: "File, folder or - (repeatable).")
    var filenames: [String] = []

    @Option(name: .customLong("dry-run"), help: "\"server\" to validate and show the result without storing it.")
    var dryRun: DryRun = .none

    @Flag(help: "Delete objects matching --selector that the files no longer contain.")
    var prune = false

    @Option(name: [.customShort("l"), .customLong("selector")], help: "Label selector for --prune.")
    var selector: String?

    @Option(help: "Field manager recorded for the applied fields.")
    var fieldManager = "apideployer"

    enum DryRun: String, ExpressibleByArgument {
        case none, server
    }

    func validate() throws {
        if filenames.isEmpty { throw ValidationError("give at least one -f FILE|DIR|-") }
        if prune, selector == nil { throw ValidationError("--prune needs --selector (-l) to choose what may be deleted") }
    }

    func run() async throws {
        let manifests = try ManifestReader.read(filenames)
        try await client.withClient { client in
            var refusals: [String] = []
            for manifest in manifests {
                let response = try await applyPatch(manifest, client: client, dryRun: true)
                if !(200..<300).contains(response.status) { refusals.append("\(manifest.source): \(response.error.message)") }
            }
            guard refusals.isEmpty else {
                for refusal in refusals { printError(refusal) }
                throw CLIError("\(refusals.count) of \(manifests.count) objects refused; nothing was applied")
            }
            var applied = Set<String>()
            for manifest in manifests {
                let namespace = manifest.document["metadata"]?["namespace"]?.stringValue ?? client.namespace
                let path = APIPaths.object(manifest.kind, namespace: namespace, name: manifest.name)
                let before = try await client.send(.GET, path)
                let response = try await applyPatch(manifest, client: client, dryRun: dryRun == .server)
                let after = try response.checked()
                applied.insert("\(manifest.kind.kind)/\(namespace)/\(manifest.name)")
                let outcome: String
                if before.status == 404 {
                    outcome = "created"
                } else if try before.checked()["metadata"]?["resourceVersion"] == after["metadata"]?["resourceVersion"] {
                    outcome = "unchanged"
                } else {
                    outcome = "configured"
                }
                print("\(manifest.kind.singular).\(ResourceKind.group)/\(manifest.name) \(outcome)\(dryRun == .server ? " (server dry run)" : "")")
            }
            if prune, let selector { try await pruneObjects(client: client, selector: selector, keep: applied) }
        }
    }

    private func applyPatch(_ manifest: Manifest, client: KubeClient, dryRun: Bool) async throws -> KubeResponse {
        let namespace = manifest.document["metadata"]?["namespace"]?.stringValue ?? client.namespace
        var query = ["fieldManager": fieldManager, "force": "true", "fieldValidation": "Strict"]
        if dryRun { query["dryRun"] = "All" }
        return try await client.send(
            .PATCH, APIPaths.object(manifest.kind, namespace: namespace, name: manifest.name), query: query,
            body: manifest.document.serialized(), contentType: "application/apply-patch+yaml")
    }

    private func pruneObjects(client: KubeClient, selector: String, keep: Set<String>) async throws {
        for kind in ResourceKind.all {
            let list = try await client.send(
                .GET, APIPaths.collection(kind, namespace: client.namespace), query: ["labelSelector": selector]
            ).checked()
            for item in list["items"]?.arrayValue ?? [] {
                let name = item["metadata"]?["name"]?.stringValue ?? ""
                guard !keep.contains("\(kind.kind)/\(client.namespace)/\(name)") else { continue }
                var query: [String: String] = [:]
                if dryRun == .server { query["dryRun"] = "All" }
                _ = try await client.send(.DELETE, APIPaths.object(kind, namespace: client.namespace, name: name), query: query).checked()
                print("\(kind.singular).\(ResourceKind.group)/\(name) pruned\(dryRun == .server ? " (server dry run)" : "")")
            }
        }
    }
}

/// Writes an error line to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
}
