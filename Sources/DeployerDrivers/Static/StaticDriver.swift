import AsyncHTTPClient
import DeployerCore
import DeployerModel
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// The driver of `static` infrastructures: API nodes reached over their admin API.
public struct StaticDriver: InfrastructureDriver {
    let http: HTTPClient
    let packages: any PackageSource
    let timeout: TimeAmount

    public init(http: HTTPClient, packages: any PackageSource, timeout: TimeAmount = .seconds(30)) {
        self.http = http
        self.packages = packages
        self.timeout = timeout
    }

    public func targetNames(of infrastructure: ResolvedInfrastructure) -> [String] { nodes(infrastructure).map(\.name) }

    public func probe(_ infrastructure: ResolvedInfrastructure) async -> [TargetProbe] {
        await forEachNode(infrastructure) { node in
            do {
                let alive = try await node.isAlive()
                guard (200..<300).contains(alive.status) else {
                    return TargetProbe(name: node.name, url: node.baseURL, healthy: false, message: "not alive (HTTP \(alive.status); draining?)")
                }
                let services = try await node.admin(.GET, "services")
                guard services.status == 200 else {
                    return TargetProbe(name: node.name, url: node.baseURL, healthy: false, message: "admin API answered HTTP \(services.status)")
                }
                return TargetProbe(name: node.name, url: node.baseURL, healthy: true, message: "alive; admin key accepted")
            } catch {
                return TargetProbe(name: node.name, url: node.baseURL, healthy: false, message: "\(error)")
            }
        }
    }

    public func observe(service: String, on infrastructure: ResolvedInfrastructure) async -> [TargetObservation] {
        await forEachNode(infrastructure) { node in
            let url = node.baseURL + "/public/api/v1/\(service)"
            do {
                // One call: the generations answer also says whether the service is enabled
                // and how it is mapped; 404 means the node has no such service.
                let generations = try await node.admin(.GET, "services/\(service)/generations")
                guard generations.status == 200 else {
                    return TargetObservation(name: node.name, url: url, reachable: true, service: nil)
                }
                let available = Set((generations.body["generations"]?.arrayValue ?? []).compactMap { $0["generation"]?.stringValue })
                return TargetObservation(
                    name: node.name, url: url, reachable: true,
                    service: ObservedService(
                        enabled: generations.body["enabled"] != .bool(false), generations: available,
                        mapping: Self.mapping(generations.body["mapping"]), logsQueriesElsewhere: generations.body["logging"] != nil))
            } catch {
                return TargetObservation(name: node.name, url: url, reachable: false, message: "\(error)", service: nil)
            }
        }
    }

    public func apply(_ change: TargetChange, service: String, target: String, on infrastructure: ResolvedInfrastructure) async throws {
        guard let node = nodes(infrastructure).first(where: { $0.name == target }) else {
            throw DriverError("no node \(target) in \(infrastructure.name)", isPermanent: true)
        }
        let answer: NodeConnection.Answer
        var accepted: Set<Int> = [200]
        switch change {
        case .createService:
            answer = try await node.admin(.POST, "services", json: ["serviceId": .string(service)])
            accepted.insert(409)
        case .importGeneration(let version, let package):
            let archive = try await packages.archive(for: package)
            answer = try await node.upload(service: service, version: version, archive: archive, sha256: package.sha256)
            accepted.insert(409)
        case .setTuning(let endpoint, let tuning):
            answer = try await node.admin(.PUT, "services/\(service)/endpoints/\(endpoint)/tuning", json: Self.tuning(tuning))
        case .setQueryLogging(let settings?):
            answer = try await node.admin(.PUT, "services/\(service)/logging", json: Self.json(settings))
        case .setQueryLogging(nil):
            answer = try await node.admin(.DELETE, "services/\(service)/logging")
            accepted.insert(404)
        case .setCallerAuth(let settings):
            answer = try await node.admin(.PUT, "services/\(service)/auth", json: try JSONValue(encoding: settings))
        case .setMapping(let mapping):
            answer = try await node.admin(.POST, "services/\(service)/actions/setMapping", json: Self.json(mapping))
        case .setEnabled(let enabled):
            answer = try await node.admin(.POST, "services/\(service)/actions/\(enabled ? "enable" : "disable")")
        case .removeGeneration(let version):
            answer = try await node.admin(.DELETE, "services/\(service)/generations/\(version)")
            accepted.insert(404)
        case .deleteService:
            answer = try await node.admin(.DELETE, "services/\(service)")
            accepted.insert(404)
        }
        guard accepted.contains(answer.status) else {
            throw DriverError("HTTP \(answer.status): \(answer.body["message"]?.stringValue ?? "")", isPermanent: (400..<500).contains(answer.status))
        }
    }

    public func query(service: String, _ query: PublicQuery, target: String, on infrastructure: ResolvedInfrastructure) async throws -> QueryAnswer {
        guard let node = nodes(infrastructure).first(where: { $0.name == target }) else { throw DriverError("no node \(target)") }
        let answer = try await node.publicQuery(service: service, query)
        return QueryAnswer(status: answer.status, body: answer.body)
    }

    private func nodes(_ infrastructure: ResolvedInfrastructure) -> [NodeConnection] {
        guard case .static(let block) = infrastructure.spec.target else { return [] }
        return block.nodes.map { node in
            let base = node.url.hasSuffix("/") ? String(node.url.dropLast()) : node.url
            return NodeConnection(
                name: node.name, baseURL: base, adminKey: infrastructure.secret(node.adminKeySecretRef) ?? "", http: http, timeout: timeout,
                tls: node.tls.map { Self.tlsConfiguration($0, infrastructure) })
        }
    }

    private func forEachNode<T: Sendable>(_ infrastructure: ResolvedInfrastructure, _ body: @escaping @Sendable (NodeConnection) async -> T) async -> [T] {
        let nodes = nodes(infrastructure)
        return await withTaskGroup(of: (Int, T).self) { group in
            for (index, node) in nodes.enumerated() { group.addTask { (index, await body(node)) } }
            var results: [(Int, T)] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    /// A client TLS configuration from a node's `tls` block (PEM values from its secrets). A PEM
    /// value that cannot be read is left out: the node then refuses the connection, and the
    /// infrastructure's probe reports it.
    static func tlsConfiguration(_ settings: StaticTarget.NodeTLS, _ infrastructure: ResolvedInfrastructure) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        let pem = { (reference: SecretKeyRef?) in reference.flatMap(infrastructure.secret).map { Array($0.utf8) } }
        if let ca = pem(settings.caSecretRef), let roots = try? NIOSSLCertificate.fromPEMBytes(ca) {
            configuration.trustRoots = .certificates(roots)
        }
        if let certificate = pem(settings.clientCertificateSecretRef), let key = pem(settings.clientKeySecretRef),
            let chain = try? NIOSSLCertificate.fromPEMBytes(certificate), let privateKey = try? NIOSSLPrivateKey(bytes: key, format: .pem)
        {
            configuration.certificateChain = chain.map { .certificate($0) }
            configuration.privateKey = .privateKey(privateKey)
        }
        return configuration
    }

    /// The node's mapping JSON (`strategy` RANDOM | HASH_BASED, `entries` with `proba`).
    static func mapping(_ json: JSONValue?) -> ServingMapping? {
        guard let json, let entries = json["entries"]?.arrayValue, !entries.isEmpty else { return nil }
        let strategy: ServiceDeployment.Generations.Strategy = json["strategy"]?.stringValue == "HASH_BASED" ? .hash : .random
        return ServingMapping(
            strategy: strategy,
            entries: entries.map { entry in
                let proba = entry["proba"]?.doubleValue ?? 0
                return .init(version: entry["generation"]?.stringValue ?? "", weight: Int((proba * 100).rounded()))
            })
    }

    static func json(_ mapping: ServingMapping) -> JSONValue {
        let total = Double(max(1, mapping.entries.reduce(0) { $0 + $1.weight }))
        return [
            "strategy": .string(mapping.strategy == .hash ? "HASH_BASED" : "RANDOM"),
            "entries": .array(mapping.entries.map { ["generation": .string($0.version), "proba": .double(Double($0.weight) / total)] }),
        ]
    }

    /// The node's tuning body, with the node's defaults for what the spec leaves out.
    /// The node's `logging` settings (`PUT services/{id}/logging`).
    static func json(_ settings: QueryLoggingSettings) -> JSONValue {
        var server: JSONValue = ["url": .string(settings.eventServer)]
        if let key = settings.authKey { server["authKey"] = .string(key) }
        return ["eventServers": [server], "routingKey": .string(settings.routingKey), "logQueries": .bool(settings.logQueries)]
    }

    static func tuning(_ tuning: ServiceDeployment.EndpointTuning) -> JSONValue {
        [
            "floor": .int(Int64(tuning.floor ?? 1)), "ceil": .int(Int64(tuning.ceil ?? 8)), "cruise": .int(Int64(tuning.cruise ?? 2)),
            "queue": .int(Int64(tuning.queue ?? 64)), "timeoutMs": .int(Int64(tuning.timeoutMs ?? 10_000)),
        ]
    }
}
