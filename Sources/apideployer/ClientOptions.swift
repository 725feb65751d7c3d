import ArgumentParser
import CloudHTTP
import DeployerModel

/// Connection settings shared by every client command, resolved like kubectl's.
struct ClientOptions: ParsableArguments {
    @Option(help: "Path of the kubeconfig (default: $KUBECONFIG, ./data/kubeconfig, ~/.kube/config).")
    var kubeconfig: String?

    @Option(help: "The kubeconfig context to use.")
    var context: String?

    @Option(name: [.short, .long], help: "Namespace (default: the context's, else \"default\").")
    var namespace: String?

    /// Runs `body` with a connected client and closes it afterwards.
    func withClient<T>(_ body: (KubeClient) async throws -> T) async throws -> T {
        guard let path = KubeconfigLoader.locate(explicit: kubeconfig) else {
            throw CLIError("no kubeconfig found: pass --kubeconfig, set KUBECONFIG, or run `apideployer serve` here first")
        }
        let client = try KubeClient(kubeconfig: try KubeconfigLoader.load(path: path), context: context, namespace: namespace)
        do {
            let result = try await body(client)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}

/// Parses `kind/name` or `kind name` into a kind and an optional name.
func resolveTarget(_ arguments: [String]) throws -> (ResourceKind, String?) {
    guard let first = arguments.first else { throw CLIError("name a resource type, such as servicedeployments") }
    let parts = first.split(separator: "/", maxSplits: 1).map(String.init)
    guard let kind = ResourceKind.lookup(parts[0]) else {
        throw CLIError("the server doesn't have a resource type \"\(parts[0])\"")
    }
    if parts.count == 2 { return (kind, parts[1]) }
    return (kind, arguments.count > 1 ? arguments[1] : nil)
}

extension KubeResponse {
    /// The body as JSON if the status is 2xx; otherwise the server's error.
    func checked() throws -> JSONValue {
        guard (200..<300).contains(status) else { throw error }
        return try json()
    }
}
