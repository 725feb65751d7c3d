import APINode
import AsyncHTTPClient
import CloudHTTP
import DeployerModel
import Foundation
import NIOCore
import ServiceLifecycle

/// The quickstart's steps, run once the servers listen: push the example packages, apply the
/// example specs with the nodes' real URLs and keys, wait for Ready, query every node, and say
/// what to try next. Then it serves until Ctrl-C (or ends, with `--exit-when-ready`).
struct QuickstartJob: Service {
    let addresses: QuickstartAddresses
    let nodes: [QuickstartNode]
    let examples: URL
    let workFolder: URL
    let limit: Duration
    let keepServing: Bool
    /// The deployer's HTTP client (shut down by the runtime).
    let http: HTTPClient

    func run() async throws {
        var nodeURLs: [String: String] = [:]
        for node in nodes { nodeURLs[node.name] = await addresses.value(node.name) }
        let server = await addresses.value("deployer")
        let kubeconfigPath = await addresses.value("kubeconfig")
        let client = try KubeClient(kubeconfig: try KubeconfigLoader.load(path: kubeconfigPath))
        do {
            try await perform(client: client, server: server, kubeconfigPath: kubeconfigPath, nodeURLs: nodeURLs)
            try await client.shutdown()
        } catch {
            try? await client.shutdown()
            throw error
        }
        if keepServing { try? await gracefulShutdown() }
    }

    private func perform(client: KubeClient, server: String, kubeconfigPath: String, nodeURLs: [String: String]) async throws {
        say("deployer API on \(server); nodes \(nodes.map { "\($0.name) on \(nodeURLs[$0.name] ?? "?")" }.joined(separator: ", "))")
        let digests = try await pushPackages(client)
        let manifests = try ManifestReader.read([examples.appendingPathComponent("quickstart").path]).map { manifest in
            var manifest = manifest
            manifest.document = fillIn(manifest.document, kind: manifest.kind, nodeURLs: nodeURLs, digests: digests)
            return manifest
        }
        for manifest in manifests {
            let namespace = manifest.document["metadata"]?["namespace"]?.stringValue ?? client.namespace
            _ = try await client.send(
                .PATCH, APIPaths.object(manifest.kind, namespace: namespace, name: manifest.name),
                query: ["fieldManager": "quickstart", "force": "true", "fieldValidation": "Strict"], body: manifest.document.serialized(),
                contentType: "application/apply-patch+yaml"
            ).checked()
            say("applied \(manifest.kind.singular)/\(manifest.name)")
        }
        let deployments = manifests.filter { $0.kind == .serviceDeployment }
        for deployment in deployments {
            let ready = try await waitUntilReady(client, name: deployment.name)
            say("servicedeployment/\(deployment.name) is Ready: \(ready)")
            try await query(deployment.document, nodeURLs: nodeURLs)
        }
        say("""
            done. Try next (in another terminal, from this folder):
              export KUBECONFIG=\(kubeconfigPath)
              apideployer get servicedeployments --by-stage
              apideployer describe servicedeployment churn-dev
              upgrade: edit \(examples.path)/quickstart/40-deployment.yaml to `version: v2`, then
              apideployer apply -f \(examples.path)/quickstart/ && apideployer wait --for=condition=Ready servicedeployment/churn-dev
              split traffic: replace `version:` with `generations: {strategy: Hash, entries: [{version: v1, weight: 90}, {version: v2, weight: 10}]}`
            """ + (keepServing ? "\nserving until Ctrl-C" : ""))
    }

    /// Builds and pushes every package folder under `examples/packages`; returns sha256 by version.
    private func pushPackages(_ client: KubeClient) async throws -> [String: String] {
        let source = examples.appendingPathComponent("packages")
        let archives = workFolder.appendingPathComponent("packages")
        try FileManager.default.createDirectory(at: archives, withIntermediateDirectories: true)
        var digests: [String: String] = [:]
        for folder in try FileManager.default.contentsOfDirectory(atPath: source.path).sorted() where !folder.hasPrefix(".") {
            let archive = archives.appendingPathComponent("\(folder).zip")
            try PackageArchive.build(folder: source.appendingPathComponent(folder), to: archive)
            let entry = try await client.send(
                .POST, "/packages/v1", body: Array(try Data(contentsOf: archive)), contentType: "application/zip", timeout: .seconds(600)
            ).checked()
            let version = entry["version"]?.stringValue ?? ""
            digests[version] = entry["sha256"]?.stringValue
            say("pushed \(folder) (version \(version)) sha256 \(entry["sha256"]?.stringValue ?? "")")
        }
        return digests
    }

    /// Puts this run's node URLs, admin keys and package digests into the example specs.
    private func fillIn(_ document: JSONValue, kind: ResourceKind, nodeURLs: [String: String], digests: [String: String]) -> JSONValue {
        var document = document
        switch kind {
        case .secret:
            for node in nodes where document["stringData"]?[node.name] != nil { document["stringData"]?[node.name] = .string(node.adminKey) }
        case .infrastructure:
            let listed = document["spec"]?["static"]?["nodes"]?.arrayValue ?? []
            document["spec"]?["static"]?["nodes"] = .array(listed.map { node in
                var node = node
                if let url = node["name"]?.stringValue.flatMap({ nodeURLs[$0] }) { node["url"] = .string(url) }
                return node
            })
        case .publishedService:
            let versions = document["spec"]?["versions"]?.arrayValue ?? []
            document["spec"]?["versions"] = .array(versions.map { version in
                var version = version
                if let digest = version["version"]?.stringValue.flatMap({ digests[$0] }) { version["package"]?["sha256"] = .string(digest) }
                return version
            })
        default:
            break
        }
        return document
    }

    private func waitUntilReady(_ client: KubeClient, name: String) async throws -> String {
        let met = try await WaitCondition.condition(type: "Ready", value: "True").wait(kind: .serviceDeployment, name: name, client: client, limit: limit)
        let object = try await client.send(.GET, APIPaths.object(.serviceDeployment, namespace: client.namespace, name: name)).checked()
        let conditions = object["status"]?["conditions"]?.arrayValue ?? []
        guard met else {
            let described = conditions.map {
                "\($0["type"]?.stringValue ?? "")=\($0["status"]?.stringValue ?? "") \($0["reason"]?.stringValue ?? ""): \($0["message"]?.stringValue ?? "")"
            }
            throw CLIError("servicedeployment/\(name) was not Ready within \(limit.components.seconds)s: \(described.joined(separator: "; "))")
        }
        return conditions.first { $0["type"] == "Ready" }?["message"]?.stringValue ?? ""
    }

    /// Sends the deployment's first test query (or a sample) to every node and prints the answers.
    private func query(_ deployment: JSONValue, nodeURLs: [String: String]) async throws {
        let service = deployment["spec"]?["service"]?.stringValue ?? ""
        let testQuery = deployment["spec"]?["testQueries"]?.arrayValue?.first
        let endpoint = testQuery?["endpoint"]?.stringValue ?? "predict-churn"
        let body = testQuery?["query"] ?? ["features": ["tenure": 3, "plan": "basic", "monthly_charges": 70.5]]
        for node in nodes {
            let url = "\(nodeURLs[node.name] ?? "")/public/api/v1/\(service)/\(endpoint)/predict"
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.body = .bytes(ByteBuffer(bytes: body.serialized()))
            let response = try await http.execute(request, timeout: .seconds(30))
            let answer = try await response.body.collect(upTo: 1024 * 1024)
            guard response.status.code == 200 else {
                throw CLIError("\(url) answered \(response.status.code): \(String(buffer: answer))")
            }
            let result = (try? JSONValue.parse(Array(answer.readableBytesView)))?["result"] ?? [:]
            say("POST \(url) \(String(decoding: body.serialized(), as: UTF8.self)) → \(String(decoding: result.serialized(), as: UTF8.self))")
        }
    }

    private func say(_ line: String) { printFlushed("quickstart: " + line) }
}
