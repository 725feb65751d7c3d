import AsyncHTTPClient
import CloudHTTP
import DeployerCore
import DeployerModel
import Foundation
import NIOCore

/// The driver of `azureml` infrastructures: one managed online endpoint per service (key
/// authentication), one managed deployment per version running the API node image with a
/// custom-container environment, traffic split through the endpoint's traffic map. Every
/// change is an ARM long-running operation, followed to its end; a deployment whose operation
/// fails refuses the version with Azure's reason.
public struct AzureMLDriver: InfrastructureDriver {
    static let versionTag = "apideployer-version"

    let session: PlatformSession

    public init(
        http: HTTPClient, now: @escaping @Sendable () -> Date = Date.init,
        pause: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        session = PlatformSession(http: http, now: now, pause: pause)
    }

    public func targetNames(of infrastructure: ResolvedInfrastructure) -> [String] {
        guard case .azureml(let block) = infrastructure.spec.target else { return [] }
        return [block.workspace]
    }

    public func probe(_ infrastructure: ResolvedInfrastructure) async -> [TargetProbe] {
        guard let (block, workspace) = try? connection(infrastructure) else { return [] }
        do {
            guard try await workspace.get("") != nil else {
                return [TargetProbe(name: block.workspace, url: nil, healthy: false, message: "workspace \(block.workspace) not found")]
            }
            return [TargetProbe(name: block.workspace, url: nil, healthy: true, message: "workspace \(block.workspace) accepts the credentials")]
        } catch {
            return [TargetProbe(name: block.workspace, url: nil, healthy: false, message: "\(error)")]
        }
    }

    public func observe(service: String, on infrastructure: ResolvedInfrastructure) async -> [TargetObservation] {
        guard let (block, workspace) = try? connection(infrastructure) else { return [] }
        let name = Self.endpointName(service, infrastructure)
        do {
            guard let endpoint = try await workspace.get("onlineEndpoints/\(name)") else {
                return [TargetObservation(name: block.workspace, url: nil, reachable: true, service: nil)]
            }
            let deployments = try await workspace.get("onlineEndpoints/\(name)/deployments")?["value"]?.arrayValue ?? []
            return [AzureEndpointState(name: name, endpoint: endpoint, deployments: deployments).observation(target: block.workspace)]
        } catch {
            return [TargetObservation(name: block.workspace, url: nil, reachable: false, message: "\(error)", service: nil)]
        }
    }

    public func apply(_ change: TargetChange, service: String, target: String, on infrastructure: ResolvedInfrastructure) async throws {
        if let refusal = PlatformChanges.refusal(change, platform: "Azure Machine Learning") { throw refusal }
        let (block, workspace) = try connection(infrastructure)
        let name = Self.endpointName(service, infrastructure)
        switch change {
        case .importGeneration(let version, let package):
            try await deploy(version: version, package: package, service: service, endpoint: name, block, workspace)
        case .setMapping(let mapping):
            try await route(mapping, endpoint: name, workspace)
        case .removeGeneration(let version):
            let deployments = try await workspace.get("onlineEndpoints/\(name)/deployments")?["value"]?.arrayValue ?? []
            for deployment in deployments where deployment["tags"]?[Self.versionTag]?.stringValue == version {
                _ = try await workspace.change(.DELETE, "onlineEndpoints/\(name)/deployments/\(deployment["name"]?.stringValue ?? "")")
            }
        case .deleteService:
            _ = try await workspace.change(.DELETE, "onlineEndpoints/\(name)")
            for environment in try await workspace.get("environments/\(name)/versions")?["value"]?.arrayValue ?? [] {
                _ = try await workspace.change(.DELETE, "environments/\(name)/versions/\(environment["name"]?.stringValue ?? "")")
            }
        default:
            return
        }
    }

    public func query(service: String, _ query: PublicQuery, target: String, on infrastructure: ResolvedInfrastructure) async throws -> QueryAnswer {
        let (_, workspace) = try connection(infrastructure)
        let name = Self.endpointName(service, infrastructure)
        guard let endpoint = try await workspace.get("onlineEndpoints/\(name)"), let scoring = endpoint["properties"]?["scoringUri"]?.stringValue else {
            throw DriverError("endpoint \(name) has no scoring URI yet")
        }
        let keys = try await workspace.change(.POST, "onlineEndpoints/\(name)/listKeys", body: [:])
        var request = HTTPClientRequest(url: scoring)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(keys["primaryKey"]?.stringValue ?? "")")
        request.headers.add(name: "Content-Type", value: "application/json")
        if let version = query.forcedGeneration {
            request.headers.add(name: "azureml-model-deployment", value: Self.deploymentName(version: version))
        }
        request.body = .bytes(ByteBuffer(bytes: query.body.serialized()))
        let response = try await session.http.execute(request, timeout: .seconds(60))
        let bytes = Array(try await response.body.collect(upTo: 16 * 1024 * 1024).readableBytesView)
        return QueryAnswer(status: Int(response.status.code), body: (try? JSONValue.parse(bytes)) ?? .string(String(decoding: bytes, as: UTF8.self)))
    }

    // MARK: - Steps

    /// Creates the endpoint if needed, the environment of the image, and the version's
    /// deployment with no traffic; a failed operation refuses the version.
    private func deploy(
        version: String, package: PackageReference, service: String, endpoint: String, _ block: AzureMLTarget, _ workspace: ARMWorkspace
    ) async throws {
        guard let packageURL = package.url else {
            throw DriverError("Azure ML containers download their package when they start: give version \(version) a package.url", isPermanent: true)
        }
        let deployment = Self.deploymentName(version: version)
        let existing = try await workspace.get("onlineEndpoints/\(endpoint)/deployments/\(deployment)")
        if existing?["properties"]?["provisioningState"]?.stringValue == "Succeeded" { return }
        let location = try await workspace.get("")?["location"]?.stringValue ?? ""
        if try await workspace.get("onlineEndpoints/\(endpoint)") == nil {
            _ = try await workspace.change(.PUT, "onlineEndpoints/\(endpoint)", body: [
                "location": .string(location), "identity": ["type": "SystemAssigned"], "tags": ["managed-by": "apideployer"],
                "properties": ["authMode": "Key", "description": "managed by apideployer"],
            ])
        }
        let environmentVersion = PlatformNames.shortHash(block.image)
        let route = { (path: String) -> JSONValue in ["path": .string(path), "port": 8080] }
        _ = try await workspace.change(.PUT, "environments/\(endpoint)/versions/\(environmentVersion)", body: [
            "properties": [
                "image": .string(block.image), "osType": "Linux",
                "inferenceConfig": ["livenessRoute": route("/health"), "readinessRoute": route("/ready"), "scoringRoute": route("/score")],
            ]
        ])
        let workspaceID =
            "/subscriptions/\(block.subscriptionId)/resourceGroups/\(block.resourceGroup)/providers/Microsoft.MachineLearningServices/workspaces/\(block.workspace)"
        let probe: JSONValue = ["initialDelay": "PT10S", "period": "PT10S", "timeout": "PT2S", "failureThreshold": 30, "successThreshold": 1]
        _ = try await workspace.change(.PUT, "onlineEndpoints/\(endpoint)/deployments/\(deployment)", body: [
            "location": .string(location), "sku": ["name": "Default", "capacity": .int(Int64(block.instanceCount))],
            "tags": ["managed-by": "apideployer", .init(Self.versionTag): .string(version)],
            "properties": [
                "endpointComputeType": "Managed", "environmentId": .string("\(workspaceID)/environments/\(endpoint)/versions/\(environmentVersion)"),
                "environmentVariables": [
                    "APIDEPLOYER_VERSION": .string(version), "APIDEPLOYER_SERVICE": .string(service), "APIDEPLOYER_PLATFORM": "azureml",
                    "APIDEPLOYER_PACKAGE_URL": .string(packageURL), "APIDEPLOYER_PACKAGE_SHA256": .string(package.sha256),
                ],
                "instanceType": .string(block.instanceType), "scaleSettings": ["scaleType": "Default"],
                "requestSettings": ["requestTimeout": "PT30S", "maxConcurrentRequestsPerInstance": 1],
                "livenessProbe": probe, "readinessProbe": probe, "appInsightsEnabled": false,
            ],
        ])
    }

    /// PUTs the endpoint again with `mapping` as its traffic map (percentages adding up to
    /// 100), then deletes deployments that failed and take no traffic.
    private func route(_ mapping: ServingMapping, endpoint name: String, _ workspace: ARMWorkspace) async throws {
        if let refusal = PlatformChanges.refusingHashSplit(mapping, platform: "Azure Machine Learning") { throw refusal }
        guard var endpoint = try await workspace.get("onlineEndpoints/\(name)") else { throw DriverError("endpoint \(name) does not exist yet") }
        var traffic: [String: JSONValue] = [:]
        for entry in mapping.entries where entry.weight > 0 { traffic[Self.deploymentName(version: entry.version)] = .int(Int64(entry.weight)) }
        endpoint["properties"]?["traffic"] = .object(traffic)
        endpoint["properties"]?["provisioningState"] = nil
        _ = try await workspace.change(.PUT, "onlineEndpoints/\(name)", body: ["location": endpoint["location"] ?? "", "identity": endpoint["identity"] ?? ["type": "SystemAssigned"], "tags": endpoint["tags"] ?? [:], "properties": endpoint["properties"] ?? [:]])
        for deployment in try await workspace.get("onlineEndpoints/\(name)/deployments")?["value"]?.arrayValue ?? []
        where deployment["properties"]?["provisioningState"]?.stringValue == "Failed" && traffic[deployment["name"]?.stringValue ?? ""] == nil {
            _ = try await workspace.change(.DELETE, "onlineEndpoints/\(name)/deployments/\(deployment["name"]?.stringValue ?? "")")
        }
    }

    // MARK: - Names and connection

    /// Online endpoint names are DNS labels of at most 32 characters, unique per region.
    static func endpointName(_ service: String, _ infrastructure: ResolvedInfrastructure) -> String {
        PlatformNames.base(service: service, namespace: infrastructure.namespace, length: 32)
    }

    /// `v-<version slug>`: deployments are named after the version (the endpoint is per service).
    static func deploymentName(version: String) -> String { "v-" + PlatformNames.slug(version) + "-" + PlatformNames.shortHash(version).prefix(4) }

    private func connection(_ infrastructure: ResolvedInfrastructure) throws -> (AzureMLTarget, ARMWorkspace) {
        guard case .azureml(let block) = infrastructure.spec.target else { throw DriverError("not an azureml infrastructure", isPermanent: true) }
        let secret = { (key: String) in infrastructure.secret(SecretKeyRef(name: block.credentialsSecretRef.name, key: key)) }
        guard let clientID = secret("clientId"), let clientSecret = secret("clientSecret") else {
            throw DriverError("secret \"\(block.credentialsSecretRef.name)\" needs clientId and clientSecret", isPermanent: true)
        }
        let management = (block.endpointOverride.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }) ?? "https://management.azure.com"
        let cache = session.tokens.cache(for: [block.tenantId, clientID, clientSecret, block.tokenEndpointOverride ?? ""]) {
            AzureClientCredentials(tenant: block.tenantId, clientID: clientID, clientSecret: clientSecret, authorityOverride: block.tokenEndpointOverride)
                .tokens(scope: "https://management.azure.com/.default", http: session.http, now: session.now)
        }
        let base =
            "\(management)/subscriptions/\(block.subscriptionId)/resourceGroups/\(block.resourceGroup)/providers/Microsoft.MachineLearningServices/workspaces/\(block.workspace)"
        return (block, ARMWorkspace(client: BearerClient(tokens: cache, http: session.http, pause: session.pause), base: base, pause: session.pause))
    }
}

/// An online endpoint and its deployments as the rollout planner reads them.
struct AzureEndpointState {
    static let transitional: Set<String> = ["Creating", "Updating", "Scaling", "Deleting"]
    let name: String
    let endpoint: JSONValue
    let deployments: [JSONValue]

    func observation(target: String) -> TargetObservation {
        let scoring = endpoint["properties"]?["scoringUri"]?.stringValue
        let state = endpoint["properties"]?["provisioningState"]?.stringValue ?? ""
        let busy = deployments.filter { Self.transitional.contains($0["properties"]?["provisioningState"]?.stringValue ?? "") }.compactMap { $0["name"]?.stringValue }
        if Self.transitional.contains(state) || !busy.isEmpty {
            let what = Self.transitional.contains(state) ? "endpoint \(name) is \(state)" : "deployments \(busy.joined(separator: ", ")) are changing"
            return TargetObservation(name: target, url: scoring, reachable: false, message: what, service: nil)
        }
        var versions: [String: String] = [:]
        for deployment in deployments where deployment["properties"]?["provisioningState"]?.stringValue == "Succeeded" {
            if let name = deployment["name"]?.stringValue, let version = deployment["tags"]?[AzureMLDriver.versionTag]?.stringValue { versions[name] = version }
        }
        let traffic = (endpoint["properties"]?["traffic"]?.objectValue ?? [:]).compactMap { name, weight -> ServiceDeployment.ActiveGeneration? in
            guard let percent = weight.intValue, percent > 0 else { return nil }
            return .init(version: versions[name] ?? name, weight: Int(percent))
        }
        let mapping = traffic.isEmpty ? nil : ServingMapping(strategy: .random, entries: traffic)
        return TargetObservation(
            name: target, url: scoring, reachable: true, message: "endpoint \(name) is \(state)",
            service: ObservedService(enabled: mapping != nil, generations: Set(versions.values), mapping: mapping),
            failure: state == "Failed" ? "endpoint \(name) is Failed" : nil)
    }
}
