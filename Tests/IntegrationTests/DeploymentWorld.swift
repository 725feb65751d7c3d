import AsyncHTTPClient
import CloudHTTP
import DeployerModel
import Foundation
import NIOCore
import NIOHTTP1

/// A deployer (`serve` with its controller) and API nodes, all real processes on free ports,
/// with the example churn packages pushed and a static infrastructure over the nodes.
final class DeploymentWorld: @unchecked Sendable {
    struct Node {
        let name: String
        let directory: URL
        let process: ChildProcess
        let url: String
        let adminKey: String
        /// A fault-injecting proxy in front of the node (`Peers/fault_proxy.py`), if asked for.
        let proxy: (process: ChildProcess, url: String)?

        /// The URL the infrastructure names: the proxy's when there is one.
        var declaredURL: String { proxy?.url ?? url }
    }

    let scratch: Scratch
    private(set) var server: ServerProcess
    let nodes: [Node]
    private(set) var client: KubeClient
    let http: HTTPClient
    /// sha256 by service, then version, of the pushed example packages.
    let digests: [String: [String: String]]

    /// Starts the nodes and the deployer and pushes versions v1 and v2 of the example churn
    /// package once per service (the service name rewritten in its manifest).
    private static func start(
        nodes count: Int, services: [String], resyncPeriod: String, faultProxies: Bool, deployerArguments: [String], logging: JSONValue?,
        embeddedController: Bool
    ) async throws -> DeploymentWorld {
        let scratch = try Scratch()
        var nodes: [Node] = []
        for index in 0..<count {
            let name = "node-\(index)"
            let directory = scratch.url.appendingPathComponent(name)
            _ = try await run(Products.apideployer, ["node", "init", directory.path], in: scratch.url)
            let key = try await run(directory.appendingPathComponent("bin/apinode-admin").path, ["admin-key-create"], in: scratch.url)
                .output.trimmingCharacters(in: .whitespacesAndNewlines)
            let process = try ChildProcess(Products.apideployer, ["node", "serve", "--data-dir", directory.path, "--port", "0"], directory: scratch.url)
            let started = try await process.waitForOutput(containing: "apinode: serving on ")
            let url = String(started[started.range(of: "apinode: serving on ")!.upperBound...].prefix { !$0.isWhitespace })
            var proxy: (ChildProcess, String)?
            if faultProxies {
                let script = Products.repository.appendingPathComponent("Tests/IntegrationTests/Peers/fault_proxy.py").path
                let child = try ChildProcess("/usr/bin/env", ["python3", script, url, String(index + 1)], directory: scratch.url)
                let line = try await child.waitForOutput(containing: "fault proxy on ")
                proxy = (child, String(line[line.range(of: "fault proxy on ")!.upperBound...].prefix { !$0.isWhitespace }))
            }
            nodes.append(Node(name: name, directory: directory, process: process, url: url, adminKey: key, proxy: proxy))
        }
        let server = try await ServerProcess.start(
            dataDirectory: scratch.url.appendingPathComponent("deployer"), controller: embeddedController, extraArguments: deployerArguments)
        let client = try server.client()
        var digests: [String: [String: String]] = [:]
        for service in services {
            for version in ["v1", "v2"] {
                let archive = try await examplePackage(service: service, version: version, in: scratch)
                let pushed = try await run(
                    Products.apideployer, ["package", "push", archive.path, "--kubeconfig", server.kubeconfigPath], in: scratch.url)
                guard let line = pushed.output.split(separator: "\n").first(where: { $0.hasPrefix("sha256 ") }) else {
                    throw CLIFailure("package push failed: \(pushed.errors)")
                }
                digests[service, default: [:]][version] = String(line.dropFirst("sha256 ".count))
            }
        }
        let world = DeploymentWorld(scratch: scratch, server: server, nodes: nodes, client: client, digests: digests)
        try await world.apply(world.baseObjects(resyncPeriod: resyncPeriod, logging: logging))
        return world
    }

    /// Builds version `version` of the example churn package as service `service` (its manifest
    /// rewritten) into `scratch/packages/<service>-<version>.zip`.
    static func examplePackage(service: String, version: String, in scratch: Scratch) async throws -> URL {
        let folder = scratch.url.appendingPathComponent("packages/\(service)-\(version)")
        try FileManager.default.createDirectory(at: folder.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Products.repository.appendingPathComponent("examples/packages/churn-\(version)"), to: folder)
        let manifest = folder.appendingPathComponent("service.yaml")
        try (try String(contentsOf: manifest, encoding: .utf8)).replacingOccurrences(of: "service: churn", with: "service: \(service)")
            .write(to: manifest, atomically: true, encoding: .utf8)
        let archive = scratch.url.appendingPathComponent("packages/\(service)-\(version).zip")
        _ = try await run(Products.apideployer, ["package", "build", folder.path, "-o", archive.path], in: scratch.url)
        return archive
    }

    /// Runs `body` in a fresh world and stops every process of it afterwards, also on failure.
    /// `deployerArguments` are added to `serve`; `logging` is the infrastructure's logging block.
    /// Without `embeddedController`, `serve` runs no controller (separate controllers do).
    static func with<T>(
        nodes count: Int = 2, services: [String] = ["churn"], resyncPeriod: String = "5m", faultProxies: Bool = false,
        deployerArguments: [String] = [], logging: JSONValue? = nil, embeddedController: Bool = true, _ body: (DeploymentWorld) async throws -> T
    ) async throws -> T {
        let world = try await start(
            nodes: count, services: services, resyncPeriod: resyncPeriod, faultProxies: faultProxies, deployerArguments: deployerArguments,
            logging: logging, embeddedController: embeddedController)
        do {
            let result = try await body(world)
            await world.stop()
            return result
        } catch {
            await world.stop()
            throw error
        }
    }

    private init(scratch: Scratch, server: ServerProcess, nodes: [Node], client: KubeClient, digests: [String: [String: String]]) {
        self.scratch = scratch
        self.server = server
        self.nodes = nodes
        self.client = client
        self.digests = digests
        http = HTTPClient(eventLoopGroupProvider: .singleton)
    }

    func stop() async {
        try? await client.shutdown()
        try? await http.shutdown()
        await server.stop()
        // Proxies first: they are the nodes' clients, and a node's graceful shutdown waits for them.
        for node in nodes {
            if let proxy = node.proxy { _ = await proxy.process.terminate() }
            _ = await node.process.terminate()
        }
        scratch.remove()
    }

    /// The secret with the node keys, the infrastructure and the published service.
    func baseObjects(resyncPeriod: String, logging: JSONValue?) -> [JSONValue] {
        let keys = JSONValue.object(Dictionary(uniqueKeysWithValues: nodes.map { ($0.name, JSONValue.string($0.adminKey)) }))
        let nodeList = JSONValue.array(nodes.map {
            ["name": .string($0.name), "url": .string($0.declaredURL), "adminKeySecretRef": ["name": "node-keys", "key": .string($0.name)]]
        })
        var infrastructure: JSONValue = ["stage": "development", "type": "static", "static": ["nodes": nodeList], "resyncPeriod": .string(resyncPeriod)]
        if let logging { infrastructure["logging"] = logging }
        return [
            ["kind": "Secret", "metadata": ["name": "node-keys"], "stringData": keys],
            ["kind": "Infrastructure", "metadata": ["name": "static"], "spec": infrastructure],
        ] + digests.keys.sorted().map { service in
            [
                "kind": "PublishedService", "metadata": ["name": .string(service)],
                "spec": ["versions": .array(digests[service]!.keys.sorted().map { ["version": .string($0), "package": ["sha256": .string(digests[service]![$0]!)]] })],
            ]
        }
    }

    /// Kills the deployer (controller included) with SIGKILL and starts it again on its data.
    func restartAfterKill() async throws {
        await server.kill9()
        try? await client.shutdown()
        server = try await ServerProcess.start(dataDirectory: server.dataDirectory, controller: true)
        client = try server.client()
    }

    /// A deployment of `churn` on the infrastructure; `extra` is merged into its spec.
    static func deployment(_ name: String = "churn-dev", service: String = "churn", spec extra: JSONValue) -> JSONValue {
        var spec: JSONValue = ["service": .string(service), "infrastructure": "static"]
        for (key, value) in extra.objectValue ?? [:] { spec[key] = value }
        return ["kind": "ServiceDeployment", "metadata": ["name": .string(name)], "spec": spec]
    }

    static let sampleQuery: JSONValue = ["features": ["tenure": 3, "plan": "basic", "monthly_charges": 70.5]]

    /// Server-side applies every object (replacing the fields it owns).
    func apply(_ objects: [JSONValue]) async throws {
        for var object in objects {
            object["apiVersion"] = .string(ResourceKind.apiVersion)
            guard let kind = ResourceKind.lookup(object["kind"]?.stringValue ?? ""), let name = object["metadata"]?["name"]?.stringValue else {
                throw CLIFailure("bad object \(object)")
            }
            _ = try await client.send(
                .PATCH, APIPaths.object(kind, namespace: "default", name: name), query: ["fieldManager": "test", "force": "true"],
                body: object.serialized(), contentType: "application/apply-patch+yaml"
            ).checkedJSON()
        }
    }

    func deploymentObject(_ name: String = "churn-dev") async throws -> JSONValue {
        try await client.send(.GET, APIPaths.object(.serviceDeployment, namespace: "default", name: name)).checkedJSON()
    }

    /// `apideployer wait` (our CLI) for a condition; true when it was met.
    func wait(_ condition: String, _ name: String = "churn-dev", timeout: String = "60s") async throws -> Bool {
        try await run(
            Products.apideployer,
            ["wait", "--for=condition=\(condition)", "servicedeployment/\(name)", "--timeout=\(timeout)", "--kubeconfig", server.kubeconfigPath],
            in: scratch.url
        ).status == 0
    }

    /// What a node serves for `churn`: nil without the service, else its generations and mapping.
    func served(on node: Node, service: String = "churn") async throws -> (generations: Set<String>, mapping: JSONValue?, enabled: Bool)? {
        let services = try await adminCall(node, .GET, "services")
        guard let entry = services.arrayValue?.first(where: { $0["serviceId"]?.stringValue == service }) else { return nil }
        let generations = try await adminCall(node, .GET, "services/\(service)/generations")
        return (
            Set((generations["generations"]?.arrayValue ?? []).compactMap { $0["generation"]?.stringValue }), generations["mapping"],
            entry["enabled"] != .bool(false)
        )
    }

    func adminCall(_ node: Node, _ method: HTTPMethod, _ path: String, body: JSONValue? = nil) async throws -> JSONValue {
        var request = HTTPClientRequest(url: "\(node.url)/admin/api/\(path)")
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(node.adminKey)")
        if let body { request.body = .bytes(ByteBuffer(bytes: body.serialized())) }
        let response = try await http.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return (try? JSONValue.parse(Array(bytes.readableBytesView))) ?? [:]
    }

    /// Sets the fault proxy's mode of one node; returns its counts so far.
    @discardableResult
    func fault(_ node: Node, _ mode: JSONValue) async throws -> JSONValue {
        guard let proxy = node.proxy else { throw CLIFailure("\(node.name) has no fault proxy") }
        var request = HTTPClientRequest(url: "\(proxy.url)/__fault/mode")
        request.method = .POST
        request.body = .bytes(ByteBuffer(bytes: mode.serialized()))
        let response = try await http.execute(request, timeout: .seconds(30))
        return try JSONValue.parse(Array(try await response.body.collect(upTo: 1 << 16).readableBytesView))
    }

    /// A prediction through one node: HTTP status and the generation that answered.
    func predict(on node: Node, dispatchKey: String? = nil, requestID: String? = nil) async throws -> (status: Int, generation: String?) {
        var body = Self.sampleQuery
        if let dispatchKey { body["dispatch"] = ["dispatchKey": .string(dispatchKey)] }
        var request = HTTPClientRequest(url: "\(node.url)/public/api/v1/churn/predict-churn/predict")
        request.method = .POST
        if let requestID { request.headers.add(name: "X-Request-ID", value: requestID) }
        request.body = .bytes(ByteBuffer(bytes: body.serialized()))
        let response = try await http.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        let answer = try? JSONValue.parse(Array(bytes.readableBytesView))
        return (Int(response.status.code), answer?["apiContext"]?["serviceGeneration"]?.stringValue)
    }

    /// Watches the deployment until `check` holds for it (bounded by `timeout`); returns the object.
    func watchDeployment(_ name: String = "churn-dev", timeout: Duration = .seconds(60), until check: @escaping @Sendable (JSONValue) -> Bool)
        async throws -> JSONValue?
    {
        let current = try await deploymentObject(name)
        if check(current) { return current }
        let query = [
            "fieldSelector": "metadata.name=\(name)", "resourceVersion": current["metadata"]?["resourceVersion"]?.stringValue ?? "0",
            "timeoutSeconds": String(timeout.components.seconds),
        ]
        for try await event in client.watch(APIPaths.collection(.serviceDeployment, namespace: "default"), query: query, timeout: timeout) {
            if let object = event["object"], check(object) { return object }
        }
        return nil
    }
}

extension KubeResponse {
    func checkedJSON() throws -> JSONValue {
        guard (200..<300).contains(status) else { throw CLIFailure("HTTP \(status): \(error.message)") }
        return try json()
    }
}

extension JSONValue {
    /// The value of condition `type` in `status.conditions`.
    func condition(_ type: String) -> JSONValue? {
        self["status"]?["conditions"]?.arrayValue?.first { $0["type"]?.stringValue == type }
    }
}
