import CloudHTTP
import DeployerCore
import DeployerModel
import Foundation

/// The driver of `kubernetes` infrastructures: each service is a Deployment of API node pods in
/// the infrastructure's namespace (see `KubernetesManifests`), in the controller's own cluster
/// or in the cluster of the kubeconfig in `kubeconfigSecretRef` (several clusters from one
/// controller). Versions travel in the pod template: staging adds one at weight 0, activation
/// sets the weights, each a rolling update that keeps the ready pods until their replacements
/// are ready; the pods split traffic themselves, as static nodes do. Readiness is read as
/// `kubectl rollout status` reads it; `ProgressDeadlineExceeded` is a failure, with the pods'
/// reasons. A change of the infrastructure's settings is applied when the service is next
/// observed. Queries reach the pods through the API server's service proxy.
public struct KubernetesDriver: InfrastructureDriver {
    static let fieldManager = "apideployer"

    let ownCluster: KubeClient?
    let clients = CredentialCaches<KubeClient>()

    /// `ownCluster`: the cluster of infrastructures without a kubeconfig secret (nil outside one).
    public init(ownCluster: KubeClient?) {
        self.ownCluster = ownCluster
    }

    public func targetNames(of infrastructure: ResolvedInfrastructure) -> [String] {
        guard case .kubernetes(let block) = infrastructure.spec.target else { return [] }
        return [block.namespace]
    }

    public func probe(_ infrastructure: ResolvedInfrastructure) async -> [TargetProbe] {
        guard case .kubernetes(let block) = infrastructure.spec.target else { return [] }
        do {
            let client = try client(infrastructure)
            let answer = try await client.send(.GET, "/api/v1/namespaces/\(block.namespace)")
            guard answer.status == 200 else {
                let message = answer.status == 404 ? "namespace \(block.namespace) does not exist" : answer.error.message
                return [TargetProbe(name: block.namespace, url: client.baseURL, healthy: false, message: message)]
            }
            let phase = (try? answer.json())?["status"]?["phase"]?.stringValue ?? "Unknown"
            return [TargetProbe(name: block.namespace, url: client.baseURL, healthy: phase == "Active", message: "namespace \(block.namespace) is \(phase)")]
        } catch {
            return [TargetProbe(name: block.namespace, url: nil, healthy: false, message: "\(error)")]
        }
    }

    public func observe(service: String, on infrastructure: ResolvedInfrastructure) async -> [TargetObservation] {
        guard case .kubernetes(let block) = infrastructure.spec.target else { return [] }
        do {
            let client = try client(infrastructure)
            let manifests = Self.manifests(service, infrastructure, block)
            guard let deployment = try await read(client, deploymentPath(manifests)) else {
                return [TargetObservation(name: block.namespace, url: nil, reachable: true, service: nil)]
            }
            let (generations, strategy) = KubernetesManifests.generations(of: deployment)
            let refreshed = manifests.deployment(generations, strategy: strategy)
            if !generations.isEmpty, KubernetesManifests.specHash(of: deployment) != KubernetesManifests.specHash(of: refreshed) {
                // The infrastructure changed (image, replicas, exposition…): its pods follow, the
                // versions and weights they serve stay.
                try await write(refreshed, manifests, client)
                return [
                    TargetObservation(
                        name: block.namespace, url: nil, reachable: false, message: "Deployment \(manifests.name): applying the infrastructure's changed settings",
                        service: nil)
                ]
            }
            let rollout = KubernetesRolloutState(deployment: deployment)
            let failure = try await rollout.failure(podsOf: manifests, client)
            return [rollout.observation(target: block.namespace, url: try await url(manifests, client), failure: failure)]
        } catch {
            return [TargetObservation(name: block.namespace, url: nil, reachable: false, message: "\(error)", service: nil)]
        }
    }

    public func apply(_ change: TargetChange, service: String, target: String, on infrastructure: ResolvedInfrastructure) async throws {
        if let refusal = PlatformChanges.refusal(change, platform: "Kubernetes") { throw refusal }
        guard case .kubernetes(let block) = infrastructure.spec.target else { throw DriverError("not a kubernetes infrastructure", isPermanent: true) }
        let client = try client(infrastructure)
        let manifests = Self.manifests(service, infrastructure, block)
        let live = try await read(client, deploymentPath(manifests))
        let (current, strategy) = live.map(KubernetesManifests.generations(of:)) ?? ([], .random)
        switch change {
        case .importGeneration(let version, let package):
            guard let url = package.url else {
                throw DriverError("API node pods download their package when they start: give version \(version) a package.url", isPermanent: true)
            }
            var generations = current.filter { $0.version != version }
            generations.append(PlatformGeneration(version: version, packageURL: url, sha256: package.sha256, weight: current.first { $0.version == version }?.weight ?? 0))
            let desired = manifests.deployment(generations, strategy: strategy)
            if let live, let failure = try await KubernetesRolloutState(deployment: live).failure(podsOf: manifests, client),
                KubernetesRolloutState.sameTemplate(live, desired)
            {
                throw DriverError("the pods with \(version) did not become ready: \(failure)", isPermanent: true)
            }
            try await write(desired, manifests, client)
        case .setMapping(let mapping):
            let weights = Dictionary(uniqueKeysWithValues: mapping.entries.map { ($0.version, $0.weight) })
            for version in weights.keys where !current.contains(where: { $0.version == version }) {
                throw DriverError("\(version) is not staged in Deployment \(manifests.name) yet")
            }
            let generations = current.map { generation in
                var weighted = generation
                weighted.weight = weights[generation.version] ?? 0
                return weighted
            }
            try await write(manifests.deployment(generations, strategy: mapping.strategy), manifests, client)
        case .removeGeneration(let version):
            guard current.contains(where: { $0.version == version }) else { return }
            try await write(manifests.deployment(current.filter { $0.version != version }, strategy: strategy), manifests, client)
        case .deleteService:
            let answer = try await client.send(
                .DELETE, deploymentPath(manifests), body: JSONValue.object(["kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"]).serialized())
            guard answer.status == 200 || answer.status == 202 || answer.status == 404 else { throw Self.failure(answer, "deleting Deployment \(manifests.name)") }
        default:
            return
        }
    }

    public func query(service: String, _ query: PublicQuery, target: String, on infrastructure: ResolvedInfrastructure) async throws -> QueryAnswer {
        guard case .kubernetes(let block) = infrastructure.spec.target else { throw DriverError("not a kubernetes infrastructure", isPermanent: true) }
        let client = try client(infrastructure)
        let manifests = Self.manifests(service, infrastructure, block)
        let path = "/api/v1/namespaces/\(block.namespace)/services/\(manifests.name):http/proxy/public/api/v1/\(service)/\(query.endpoint)/\(query.verb)"
        let headers = query.forcedGeneration.map { [("X-Forced-Generation", $0)] } ?? []
        let answer = try await client.send(.POST, path, body: query.body.serialized(), headers: headers)
        return QueryAnswer(status: answer.status, body: (try? answer.json()) ?? ["message": .string(String(decoding: answer.body.prefix(300), as: UTF8.self))])
    }

    // MARK: - Steps

    /// Applies the Deployment, then the objects it owns; removes an Ingress or autoscaler the
    /// infrastructure no longer asks for.
    private func write(_ deployment: JSONValue, _ manifests: KubernetesManifests, _ client: KubeClient) async throws {
        let namespace = manifests.block.namespace
        let applied = try await serverSideApply(deployment, path: deploymentPath(manifests), client)
        let owner = KubernetesManifests.owner(applied)
        _ = try await serverSideApply(manifests.serviceObject(owner: owner), path: "/api/v1/namespaces/\(namespace)/services/\(manifests.name)", client)
        let ingressPath = "/apis/networking.k8s.io/v1/namespaces/\(namespace)/ingresses/\(manifests.name)"
        let autoscalerPath = "/apis/autoscaling/v2/namespaces/\(namespace)/horizontalpodautoscalers/\(manifests.name)"
        for (object, path) in [(manifests.ingress(owner: owner), ingressPath), (manifests.autoscaler(owner: owner), autoscalerPath)] {
            if let object {
                _ = try await serverSideApply(object, path: path, client)
            } else {
                let answer = try await client.send(.DELETE, path)
                guard answer.status < 300 || answer.status == 404 else { throw Self.failure(answer, "deleting \(path)") }
            }
        }
    }

    private func serverSideApply(_ object: JSONValue, path: String, _ client: KubeClient) async throws -> JSONValue {
        let answer = try await client.send(
            .PATCH, path, query: ["fieldManager": Self.fieldManager, "force": "true", "fieldValidation": "Strict"], body: object.serialized(),
            contentType: "application/apply-patch+yaml")
        guard answer.status == 200 || answer.status == 201 else {
            throw Self.failure(answer, "applying \(object["kind"]?.stringValue ?? "object") \(object["metadata"]?["name"]?.stringValue ?? "")")
        }
        return try answer.json()
    }

    private func read(_ client: KubeClient, _ path: String) async throws -> JSONValue? {
        let answer = try await client.send(.GET, path)
        if answer.status == 404 { return nil }
        guard answer.status == 200 else { throw Self.failure(answer, "reading \(path)") }
        return try answer.json()
    }

    /// Where callers reach the service: the Ingress host, the load balancer, or the Service's
    /// cluster DNS name.
    private func url(_ manifests: KubernetesManifests, _ client: KubeClient) async throws -> String {
        let namespace = manifests.block.namespace
        if let exposition = manifests.block.exposition, exposition.type == "Ingress", let host = exposition.host {
            return "http://\(host)\(exposition.pathPrefix ?? "/")"
        }
        if manifests.block.exposition?.type == "LoadBalancer",
            let service = try await read(client, "/api/v1/namespaces/\(namespace)/services/\(manifests.name)"),
            let ingress = service["status"]?["loadBalancer"]?["ingress"]?.arrayValue?.first,
            let address = ingress["hostname"]?.stringValue ?? ingress["ip"]?.stringValue
        {
            return "http://\(address):\(manifests.servicePort)/"
        }
        return "http://\(manifests.name).\(namespace).svc.cluster.local:\(manifests.servicePort)/"
    }

    // MARK: - Names and clients

    static func manifests(_ service: String, _ infrastructure: ResolvedInfrastructure, _ block: KubernetesTarget) -> KubernetesManifests {
        KubernetesManifests(name: PlatformNames.base(service: service, namespace: infrastructure.namespace), service: service, block: block)
    }

    private func deploymentPath(_ manifests: KubernetesManifests) -> String {
        "/apis/apps/v1/namespaces/\(manifests.block.namespace)/deployments/\(manifests.name)"
    }

    /// The cluster of the infrastructure's kubeconfig secret, or the controller's own.
    private func client(_ infrastructure: ResolvedInfrastructure) throws -> KubeClient {
        guard case .kubernetes(let block) = infrastructure.spec.target else { throw DriverError("not a kubernetes infrastructure", isPermanent: true) }
        guard let reference = block.kubeconfigSecretRef else {
            guard let ownCluster else {
                throw DriverError("this controller does not run in a cluster: give the infrastructure a kubeconfigSecretRef", isPermanent: true)
            }
            return ownCluster
        }
        guard let text = infrastructure.secret(reference) else { throw DriverError("secret \"\(reference.name)\" has no key \(reference.key)", isPermanent: true) }
        return try clients.cache(for: [text]) { try Self.client(kubeconfig: text, secret: reference.name) }
    }

    static func failure(_ answer: KubeResponse, _ what: String) -> DriverError {
        let error = answer.error
        return DriverError("\(what): \(error.message)", isPermanent: DriverError.isPermanent(status: answer.status))
    }

    /// A client for a kubeconfig kept in a secret (one per distinct kubeconfig, kept across
    /// reconciles). It is written by users, so it may only carry its credentials inline: an exec
    /// plugin would run a command in the controller, and file paths (token, certificate, key,
    /// CA files) would read the controller's own files.
    static func client(kubeconfig text: String, secret: String) throws -> KubeClient {
        // The parser's message may quote the file, which holds credentials: it is not shown.
        guard let document = try? JSONValue.parseYAMLDocuments(text).first, let kubeconfig = try? document.decode(Kubeconfig.self) else {
            throw DriverError("secret \"\(secret)\": the kubeconfig is not valid", isPermanent: true)
        }
        let resolved: (cluster: Kubeconfig.NamedCluster.Cluster, user: Kubeconfig.NamedUser.User, namespace: String)
        do {
            resolved = try kubeconfig.resolve()
        } catch {
            throw DriverError("secret \"\(secret)\": \(error)", isPermanent: true)
        }
        let user = resolved.user
        let refused = [
            user.exec.map { _ in "an exec credential plugin" }, user.tokenFile.map { _ in "a token file" }, user.clientCertificate.map { _ in "a client certificate file" },
            user.clientKey.map { _ in "a client key file" }, resolved.cluster.certificateAuthority.map { _ in "a CA file" },
        ].compactMap { $0 }
        guard refused.isEmpty else {
            throw DriverError(
                "secret \"\(secret)\": the kubeconfig uses \(refused.joined(separator: ", ")); a kubeconfig in a secret must carry its credentials inline (token, client-certificate-data, client-key-data, certificate-authority-data)",
                isPermanent: true)
        }
        return try KubeClient(kubeconfig: kubeconfig)
    }
}
