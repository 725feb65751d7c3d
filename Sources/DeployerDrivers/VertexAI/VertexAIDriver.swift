import AsyncHTTPClient
import CloudHTTP
import DeployerCore
import DeployerModel
import Foundation

/// The driver of `vertexai` infrastructures: one endpoint per service; per version, the package
/// in Cloud Storage, a model uploaded with the API node image as its custom container, and that
/// model deployed to the endpoint without traffic; traffic split through the endpoint's
/// `trafficSplit`; old versions undeployed and deleted. Every long-running call is polled to its
/// end, and a deployment that fails refuses the version with Vertex AI's reason.
///
/// Vertex AI cannot route a query to one deployed model of an endpoint, so test queries that
/// must reach one version (staged tests, checks of a split) are refused with that reason.
public struct VertexAIDriver: InfrastructureDriver {
    static let versionVariable = "APIDEPLOYER_VERSION"
    static let serviceLabel = "apideployer-service"

    let session: PlatformSession
    let packages: any PackageSource

    public init(
        http: HTTPClient, packages: any PackageSource, now: @escaping @Sendable () -> Date = Date.init,
        pause: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        session = PlatformSession(http: http, now: now, pause: pause)
        self.packages = packages
    }

    public func targetNames(of infrastructure: ResolvedInfrastructure) -> [String] {
        guard case .vertexai(let block) = infrastructure.spec.target else { return [] }
        return [block.location]
    }

    public func probe(_ infrastructure: ResolvedInfrastructure) async -> [TargetProbe] {
        guard case .vertexai(let block) = infrastructure.spec.target else { return [] }
        do {
            let api = try connection(infrastructure).1
            _ = try await api.call(.GET, "\(api.parent)/endpoints?pageSize=1")
            return [TargetProbe(name: block.location, url: nil, healthy: true, message: "Vertex AI in \(block.project)/\(block.location) accepts the credentials")]
        } catch {
            return [TargetProbe(name: block.location, url: nil, healthy: false, message: "\(error)")]
        }
    }

    public func observe(service: String, on infrastructure: ResolvedInfrastructure) async -> [TargetObservation] {
        guard case .vertexai(let block) = infrastructure.spec.target else { return [] }
        do {
            let (_, api) = try connection(infrastructure)
            let state = try await VertexEndpointState.read(service: Self.name(service, infrastructure), api)
            return [state.observation(target: block.location, url: "\(api.base)/v1/\(state.endpointPath):predict")]
        } catch {
            return [TargetObservation(name: block.location, url: nil, reachable: false, message: "\(error)", service: nil)]
        }
    }

    public func apply(_ change: TargetChange, service: String, target: String, on infrastructure: ResolvedInfrastructure) async throws {
        if let refusal = PlatformChanges.refusal(change, platform: "Vertex AI") { throw refusal }
        let (block, api) = try connection(infrastructure)
        let name = Self.name(service, infrastructure)
        switch change {
        case .importGeneration(let version, let package):
            try await deploy(version: version, package: package, service: service, name: name, block, api)
        case .setMapping(let mapping):
            if let refusal = PlatformChanges.refusingHashSplit(mapping, platform: "Vertex AI") { throw refusal }
            let state = try await VertexEndpointState.read(service: name, api)
            var split: [String: JSONValue] = [:]
            for entry in mapping.entries where entry.weight > 0 {
                guard let deployed = state.deployed.first(where: { $0.version == entry.version }) else {
                    throw DriverError("\(entry.version) is not deployed to endpoint \(name) yet")
                }
                split[deployed.id] = .int(Int64(entry.weight))
            }
            _ = try await api.call(.PATCH, "\(state.endpointPath)?updateMask=trafficSplit", body: ["trafficSplit": .object(split)])
            // Models uploaded for a version whose deployment failed serve nothing: tidy them.
            let deployedVersions = Set(state.deployed.map(\.version))
            for model in state.models where !deployedVersions.contains(model.version) { try await deleteModel(model, block, api) }
        case .removeGeneration(let version):
            let state = try await VertexEndpointState.read(service: name, api)
            for deployed in state.deployed where deployed.version == version {
                _ = try await api.operation(.POST, "\(state.endpointPath):undeployModel", body: ["deployedModelId": .string(deployed.id)])
            }
            for model in state.models where model.version == version { try await deleteModel(model, block, api) }
        case .deleteService:
            let state = try await VertexEndpointState.read(service: name, api)
            var remaining = state.deployed
            while let deployed = remaining.popLast() {
                // The last ones take the traffic of those undeployed before them.
                let split = remaining.first.map { ["trafficSplit": [.init($0.id): 100]] as JSONValue } ?? ["trafficSplit": [:]]
                var body = split
                body["deployedModelId"] = .string(deployed.id)
                _ = try await api.operation(.POST, "\(state.endpointPath):undeployModel", body: body)
            }
            _ = try await api.operation(.DELETE, state.endpointPath, allowNotFound: true)
            for model in state.models { try await deleteModel(model, block, api) }
        default:
            return
        }
    }

    public func query(service: String, _ query: PublicQuery, target: String, on infrastructure: ResolvedInfrastructure) async throws -> QueryAnswer {
        if query.forcedGeneration != nil {
            return QueryAnswer(
                status: 400,
                body: ["message": "Vertex AI cannot send a query to one version of an endpoint: leave testQueries out, or deploy a single version at a time without staged tests"])
        }
        let (_, api) = try connection(infrastructure)
        let path = "\(api.parent)/endpoints/\(Self.name(service, infrastructure))"
        let answer = try await api.client.send(.POST, "\(api.base)/v1/\(path):predict", body: ["instances": [query.body["features"] ?? query.body]])
        guard answer.isSuccess, let prediction = answer.body["predictions"]?.arrayValue?.first else {
            return QueryAnswer(status: answer.status, body: ["message": answer.body["error"]?["message"] ?? .string("no prediction")])
        }
        return QueryAnswer(status: 200, body: ["result": prediction])
    }

    // MARK: - Steps

    /// Uploads the package and the model (once), creates the endpoint if needed, and deploys
    /// the model to it without traffic.
    private func deploy(
        version: String, package: PackageReference, service: String, name: String, _ block: VertexAITarget, _ api: VertexAPI
    ) async throws {
        var state = try await VertexEndpointState.read(service: name, api)
        if state.deployed.contains(where: { $0.version == version }) { return }
        let modelID = PlatformNames.generation(base: name, version: version, sha256: package.sha256)
        let bucket = Self.bucket(block.artifactBucket)
        if !state.models.contains(where: { $0.version == version }) {
            try await api.upload(bucket: bucket, object: "\(name)/\(modelID)/package.zip", bytes: Array(try Data(contentsOf: try await packages.archive(for: package))))
            let env: [JSONValue] = [
                ["name": .string(Self.versionVariable), "value": .string(version)], ["name": "APIDEPLOYER_SERVICE", "value": .string(service)],
                ["name": "APIDEPLOYER_PACKAGE_SHA256", "value": .string(package.sha256)], ["name": "APIDEPLOYER_PLATFORM", "value": "vertexai"],
            ]
            _ = try await api.operation(.POST, "\(api.parent)/models:upload", body: [
                "modelId": .string(modelID),
                "model": [
                    "displayName": .string("\(service) \(version)"), "artifactUri": .string("gs://\(bucket)/\(name)/\(modelID)/"),
                    "labels": ["managed-by": "apideployer", .init(Self.serviceLabel): .string(name)],
                    "containerSpec": [
                        "imageUri": .string(block.image), "env": .array(env), "ports": [["containerPort": 8080]], "predictRoute": "/predict",
                        "healthRoute": "/health",
                    ],
                ],
            ])
            state = try await VertexEndpointState.read(service: name, api)
        }
        if state.endpoint == nil {
            _ = try await api.operation(
                .POST, "\(api.parent)/endpoints?endpointId=\(name)", body: ["displayName": .string(service), "labels": ["managed-by": "apideployer"]])
        }
        guard let model = state.models.first(where: { $0.version == version }) else { throw DriverError("model \(modelID) was not found after its upload") }
        // A deployModel still running (this controller gave up waiting, or restarted) shows in
        // the endpoint's operations, not yet in its deployed models: deploying again would
        // deploy twice.
        let running = try await api.call(.GET, "\(state.endpointPath)/operations")["operations"]?.arrayValue?.filter { $0["done"]?.boolValue != true } ?? []
        if let operation = running.first?["name"]?.stringValue {
            throw DriverError("operation \(operation) on endpoint \(name) is still running; \(version) is deployed once it ends")
        }
        // One that ended since the state was read may have deployed it.
        if try await VertexEndpointState.read(service: name, api).deployed.contains(where: { $0.version == version }) { return }
        _ = try await api.operation(.POST, "\(state.endpointPath):deployModel", body: [
            "deployedModel": [
                "model": .string(model.name), "displayName": .string(modelID),
                "dedicatedResources": [
                    "machineSpec": ["machineType": .string(block.machineType)], "minReplicaCount": .int(Int64(block.minReplicas)),
                    "maxReplicaCount": .int(Int64(max(block.minReplicas, block.maxReplicas))),
                ],
            ]
        ])
    }

    private func deleteModel(_ model: VertexEndpointState.Model, _ block: VertexAITarget, _ api: VertexAPI) async throws {
        _ = try await api.operation(.DELETE, model.name, allowNotFound: true)
        let bucket = Self.bucket(block.artifactBucket)
        if let directory = model.artifactURI, directory.hasPrefix("gs://\(bucket)/") {
            try await api.deleteObject(bucket: bucket, object: String(directory.dropFirst("gs://\(bucket)/".count)) + "package.zip")
        }
    }

    // MARK: - Names and connection

    static func name(_ service: String, _ infrastructure: ResolvedInfrastructure) -> String {
        PlatformNames.base(service: service, namespace: infrastructure.namespace)
    }

    /// `gs://bucket` or `bucket`.
    static func bucket(_ artifactBucket: String) -> String {
        String(artifactBucket.hasPrefix("gs://") ? artifactBucket.dropFirst(5) : Substring(artifactBucket)).split(separator: "/").first.map(String.init) ?? artifactBucket
    }

    private func connection(_ infrastructure: ResolvedInfrastructure) throws -> (VertexAITarget, VertexAPI) {
        guard case .vertexai(let block) = infrastructure.spec.target else { throw DriverError("not a vertexai infrastructure", isPermanent: true) }
        guard let key = infrastructure.secret(SecretKeyRef(name: block.credentialsSecretRef.name, key: "serviceAccountJSON")) else {
            throw DriverError("secret \"\(block.credentialsSecretRef.name)\" needs serviceAccountJSON", isPermanent: true)
        }
        let cache = try session.tokens.cache(for: [key, block.tokenEndpointOverride ?? ""]) {
            let account: GoogleServiceAccount
            do {
                account = try GoogleServiceAccount(keyJSON: key, tokenURLOverride: block.tokenEndpointOverride)
            } catch {
                throw DriverError("secret \"\(block.credentialsSecretRef.name)\": \(error)", isPermanent: true)
            }
            return account.tokens(scope: "https://www.googleapis.com/auth/cloud-platform", http: session.http, now: session.now)
        }
        let override = block.endpointOverride.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        let api = VertexAPI(
            client: BearerClient(tokens: cache, http: session.http, pause: session.pause), base: override ?? "https://\(block.location)-aiplatform.googleapis.com",
            storage: override ?? "https://storage.googleapis.com", parent: "projects/\(block.project)/locations/\(block.location)", pause: session.pause)
        return (block, api)
    }
}

/// A service's endpoint, deployed models and uploaded models on Vertex AI.
struct VertexEndpointState {
    struct Model {
        var name: String
        var version: String
        var artifactURI: String?
    }

    struct Deployed {
        var id: String
        var version: String
    }

    let endpointPath: String
    var endpoint: JSONValue?
    var models: [Model]
    var deployed: [Deployed]

    /// Reads the endpoint `name` and the models labelled with it.
    static func read(service name: String, _ api: VertexAPI) async throws -> VertexEndpointState {
        let endpointPath = "\(api.parent)/endpoints/\(name)"
        let listed = try await api.call(.GET, "\(api.parent)/models?filter=labels.\(VertexAIDriver.serviceLabel)%3D\(name)")["models"]?.arrayValue ?? []
        let models = listed.compactMap { model -> Model? in
            let version = model["containerSpec"]?["env"]?.arrayValue?.first { $0["name"]?.stringValue == VertexAIDriver.versionVariable }?["value"]?.stringValue
            guard let modelName = model["name"]?.stringValue, let version else { return nil }
            return Model(name: modelName, version: version, artifactURI: model["artifactUri"]?.stringValue)
        }
        let endpoint = try await api.get(endpointPath)
        let byName = Dictionary(models.map { ($0.name, $0.version) }, uniquingKeysWith: { first, _ in first })
        let deployed = (endpoint?["deployedModels"]?.arrayValue ?? []).compactMap { entry -> Deployed? in
            guard let id = entry["id"]?.stringValue, let version = byName[entry["model"]?.stringValue ?? ""] else { return nil }
            return Deployed(id: id, version: version)
        }
        return VertexEndpointState(endpointPath: endpointPath, endpoint: endpoint, models: models, deployed: deployed)
    }

    func observation(target: String, url: String) -> TargetObservation {
        guard endpoint != nil || !models.isEmpty else { return TargetObservation(name: target, url: url, reachable: true, service: nil) }
        let versions = Dictionary(deployed.map { ($0.id, $0.version) }, uniquingKeysWith: { first, _ in first })
        let split = (endpoint?["trafficSplit"]?.objectValue ?? [:]).compactMap { id, weight -> ServiceDeployment.ActiveGeneration? in
            guard let percent = weight.intValue, percent > 0 else { return nil }
            return .init(version: versions[id] ?? id, weight: Int(percent))
        }
        let mapping = split.isEmpty ? nil : ServingMapping(strategy: .random, entries: split)
        return TargetObservation(
            name: target, url: url, reachable: true,
            service: ObservedService(enabled: mapping != nil, generations: Set(deployed.map(\.version)), mapping: mapping))
    }
}
