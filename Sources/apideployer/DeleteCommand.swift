import ArgumentParser
import CloudHTTP
import DeployerModel
import Foundation

/// `apideployer delete`: deletes objects by name or by file, waiting for finalizers by default.
struct DeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete objects.")

    @OptionGroup var client: ClientOptions

    @Argument(help: "KIND NAME or KIND/NAME (or use -f).")
    var target: [String] = []

    @Option(name: [.short, .customLong("filename")], help: "Delete the objects in these files.")
    var filenames: [String] = []

    @Option(help: "Wait until the objects are gone (their finalizers done): true or false.")
    var wait = true

    @Option(help: "How long to wait for finalizers.")
    var timeout = "5m"

    @Flag(help: "Succeed when an object is already gone.")
    var ignoreNotFound = false

    func run() async throws {
        var targets: [(ResourceKind, String?, String)] = []
        if !filenames.isEmpty {
            targets = try ManifestReader.read(filenames).map { ($0.kind, $0.document["metadata"]?["namespace"]?.stringValue, $0.name) }
        } else {
            let (kind, name) = try resolveTarget(target)
            guard let name else { throw CLIError("delete needs a name or -f") }
            targets = [(kind, nil, name)]
        }
        guard let limit = Duration(kubernetesString: timeout) else { throw CLIError("--timeout: invalid duration \"\(timeout)\"") }
        try await client.withClient { client in
            for (kind, namespace, name) in targets {
                let path = APIPaths.object(kind, namespace: namespace ?? client.namespace, name: name)
                let response = try await client.send(.DELETE, path, body: Array(#"{"propagationPolicy":"Background"}"#.utf8))
                if response.status == 404, ignoreNotFound { continue }
                _ = try response.checked()
                print("\(kind.singular).\(ResourceKind.group) \"\(name)\" deleted")
                if wait, response.status == 200, (try? response.json())?["kind"]?.stringValue != "Status" {
                    try await waitUntilGone(kind: kind, namespace: namespace ?? client.namespace, name: name, client: client, limit: limit)
                }
            }
        }
    }

    private func waitUntilGone(kind: ResourceKind, namespace: String, name: String, client: KubeClient, limit: Duration) async throws {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            let current = try await client.send(.GET, APIPaths.object(kind, namespace: namespace, name: name))
            if current.status == 404 { return }
            let version = try current.checked()["metadata"]?["resourceVersion"]?.stringValue ?? "0"
            let remaining = deadline - ContinuousClock.now
            let query = ["fieldSelector": "metadata.name=\(name)", "resourceVersion": version, "timeoutSeconds": String(max(1, Int(remaining.components.seconds)))]
            for try await event in client.watch(APIPaths.collection(kind, namespace: namespace), query: query, timeout: remaining + .seconds(5)) {
                if event["type"]?.stringValue == "DELETED" { return }
            }
        }
        throw CLIError("timed out waiting for \(kind.plural)/\(name) to be deleted (finalizers still pending)")
    }
}
