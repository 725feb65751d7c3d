import AsyncHTTPClient
import CloudHTTP
import DeployerCore
import DeployerModel
import Foundation

/// The driver of `sagemaker` infrastructures: one real-time endpoint per service, one model per
/// version (its package in S3 as `model.tar.gz`), one endpoint configuration per mapping whose
/// production variants carry the weights. Updates go through a new configuration and
/// `UpdateEndpoint`; transitional states are waited for; `Failed`, or an update SageMaker rolled
/// back, is reported as the target's failure, which stalls the rollout that asked for it.
public struct SageMakerDriver: InfrastructureDriver {
    /// The model's environment variable holding the version it serves.
    static let versionVariable = "APIDEPLOYER_VERSION"
    static let managedTag: JSONValue = ["Key": "managed-by", "Value": "apideployer"]

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
        guard case .sagemaker(let block) = infrastructure.spec.target else { return [] }
        return [block.region]
    }

    public func probe(_ infrastructure: ResolvedInfrastructure) async -> [TargetProbe] {
        guard let (block, api) = try? connection(infrastructure) else { return [] }
        do {
            _ = try await api.call("ListEndpoints", ["MaxResults": 1])
            return [TargetProbe(name: block.region, url: nil, healthy: true, message: "SageMaker in \(block.region) accepts the credentials")]
        } catch {
            return [TargetProbe(name: block.region, url: nil, healthy: false, message: "SageMaker in \(block.region): \(error)")]
        }
    }

    public func observe(service: String, on infrastructure: ResolvedInfrastructure) async -> [TargetObservation] {
        guard let (block, api) = try? connection(infrastructure) else { return [] }
        let name = PlatformNames.base(service: service, namespace: infrastructure.namespace)
        let url = runtimeBase(block) + "/endpoints/\(name)/invocations"
        do {
            return [try await SageMakerEndpoint.read(name, api).observation(target: block.region, url: url)]
        } catch {
            return [TargetObservation(name: block.region, url: url, reachable: false, message: "\(error)", service: nil)]
        }
    }

    public func apply(_ change: TargetChange, service: String, target: String, on infrastructure: ResolvedInfrastructure) async throws {
        if let refusal = PlatformChanges.refusal(change, platform: "SageMaker") { throw refusal }
        let (block, api) = try connection(infrastructure)
        let name = PlatformNames.base(service: service, namespace: infrastructure.namespace)
        do {
            switch change {
            case .importGeneration(let version, let package):
                try await importModel(version: version, package: package, service: service, name: name, block, api)
            case .setMapping(let mapping):
                try await activate(mapping, name: name, block, api)
            case .removeGeneration(let version):
                let state = try await SageMakerEndpoint.read(name, api)
                for model in state.models where model.version == version { try await deleteModel(model, block, api) }
                try await deleteUnusedConfigs(state, api)
            case .deleteService:
                try await deleteEverything(name: name, block, api)
            default:
                return
            }
        } catch let error as AWSError {
            throw DriverError("SageMaker: \(error)", isPermanent: !error.isRetryable && error.status != 0 && !SageMakerAPI.isNotFound(error))
        }
    }

    public func query(service: String, _ query: PublicQuery, target: String, on infrastructure: ResolvedInfrastructure) async throws -> QueryAnswer {
        let (block, api) = try connection(infrastructure)
        let name = PlatformNames.base(service: service, namespace: infrastructure.namespace)
        var headers: [(name: String, value: String)] = [("Content-Type", "application/json"), ("Accept", "application/json")]
        if let version = query.forcedGeneration {
            guard let model = try await SageMakerEndpoint.read(name, api).model(for: version) else {
                throw DriverError("SageMaker has no model of \(version) for \(service)")
            }
            headers.append(("X-Amzn-SageMaker-Target-Variant", model.name))
        }
        do {
            let answer = try await api.client.rest(
                service: "sagemaker", host: "runtime.sagemaker.\(block.region).amazonaws.com", path: "/endpoints/\(name)/invocations", headers: headers,
                body: query.body.serialized())
            return QueryAnswer(status: 200, body: (try? JSONValue.parse(answer)) ?? .string(String(decoding: answer, as: UTF8.self)))
        } catch let error as AWSError where (400..<500).contains(error.status) && !error.isRetryable {
            return QueryAnswer(status: error.status, body: ["message": .string("\(error.code): \(error.message)")])
        }
    }

    // MARK: - Steps

    /// Uploads the package as `s3://{bucket}/{name}/{model}/model.tar.gz` and creates its model.
    private func importModel(version: String, package: PackageReference, service: String, name: String, _ block: SageMakerTarget, _ api: SageMakerAPI) async throws {
        let model = PlatformNames.generation(base: name, version: version, sha256: package.sha256)
        if try await api.describe("DescribeModel", ["ModelName": .string(model)]) != nil { return }
        let key = "\(name)/\(model)/model.tar.gz"
        let artifact = try ModelArchive.bytes(wrapping: try await packages.archive(for: package))
        do {
            try await api.client.putObject(bucket: block.artifactBucket, key: key, body: artifact)
        } catch let error as AWSError where error.code == "NoSuchBucket" {
            throw DriverError("the artifact bucket \"\(block.artifactBucket)\" does not exist in \(block.region)", isPermanent: true)
        }
        try await api.create("CreateModel", [
            "ModelName": .string(model), "ExecutionRoleArn": .string(block.executionRoleArn),
            "PrimaryContainer": [
                "Image": .string(block.image), "ModelDataUrl": .string("s3://\(block.artifactBucket)/\(key)"),
                "Environment": [
                    .init(Self.versionVariable): .string(version), "APIDEPLOYER_SERVICE": .string(service),
                    "APIDEPLOYER_PACKAGE_SHA256": .string(package.sha256), "APIDEPLOYER_PLATFORM": "sagemaker",
                ],
            ],
            "Tags": [Self.managedTag],
        ])
    }

    /// Points the endpoint at the configuration of `mapping` (created when missing): creates the
    /// endpoint, or updates it once it is `InService`; a `Failed` endpoint is deleted first.
    private func activate(_ mapping: ServingMapping, name: String, _ block: SageMakerTarget, _ api: SageMakerAPI) async throws {
        if let refusal = PlatformChanges.refusingHashSplit(mapping, platform: "SageMaker") { throw refusal }
        let state = try await SageMakerEndpoint.read(name, api)
        var variants: [JSONValue] = []
        for entry in mapping.entries {
            guard let model = state.model(for: entry.version) else { throw DriverError("SageMaker has no model of \(entry.version) yet") }
            variants.append([
                "VariantName": .string(model.name), "ModelName": .string(model.name), "InstanceType": .string(block.instanceType),
                "InitialInstanceCount": .int(Int64(block.instanceCount)), "InitialVariantWeight": .double(Double(entry.weight)),
            ])
        }
        let config = "\(name)-c" + PlatformNames.shortHash(String(decoding: JSONValue.array(variants).serialized(), as: UTF8.self))
        if try await api.describe("DescribeEndpointConfig", ["EndpointConfigName": .string(config)]) == nil {
            try await api.create("CreateEndpointConfig", ["EndpointConfigName": .string(config), "ProductionVariants": .array(variants), "Tags": [Self.managedTag]])
        }
        let requested: JSONValue = ["Key": .string(SageMakerEndpoint.requestedConfigTag), "Value": .string(config)]
        guard let endpoint = state.endpoint, let status = state.status else {
            try await api.create("CreateEndpoint", ["EndpointName": .string(name), "EndpointConfigName": .string(config), "Tags": [Self.managedTag, requested]])
            return
        }
        switch status {
        case "InService":
            if state.requestedConfig != config, let arn = endpoint["EndpointArn"]?.stringValue {
                _ = try await api.call("AddTags", ["ResourceArn": .string(arn), "Tags": [requested]])
            }
            if state.configName != config {
                _ = try await api.call("UpdateEndpoint", ["EndpointName": .string(name), "EndpointConfigName": .string(config)])
            }
        case "Failed":
            _ = try await api.call("DeleteEndpoint", ["EndpointName": .string(name)])
            throw DriverError("endpoint \(name) had failed; it is being deleted and will be created again with \(mapping)")
        default:
            throw DriverError("endpoint \(name) is \(status); it switches to \(mapping) once it settles")
        }
    }

    /// Deletes the endpoint, then (once it is gone) its configurations, models and artifacts.
    private func deleteEverything(name: String, _ block: SageMakerTarget, _ api: SageMakerAPI) async throws {
        var state = try await SageMakerEndpoint.read(name, api)
        if let status = state.status {
            if status != "Deleting" { try await api.delete("DeleteEndpoint", ["EndpointName": .string(name)]) }
            state = try await SageMakerEndpoint.read(name, api)
            if let status = state.status { throw DriverError("endpoint \(name) is \(status); waiting for it to be deleted") }
        }
        try await deleteUnusedConfigs(state, api)
        for model in state.models { try await deleteModel(model, block, api) }
    }

    /// Deletes this service's endpoint configurations other than the one in effect.
    private func deleteUnusedConfigs(_ state: SageMakerEndpoint, _ api: SageMakerAPI) async throws {
        let configs = try await api.call("ListEndpointConfigs", ["NameContains": .string(state.name), "MaxResults": 100])["EndpointConfigs"]?.arrayValue ?? []
        for config in configs.compactMap({ $0["EndpointConfigName"]?.stringValue }) where config.hasPrefix(state.name + "-c") && config != state.configName {
            try await api.delete("DeleteEndpointConfig", ["EndpointConfigName": .string(config)])
        }
    }

    private func deleteModel(_ model: SageMakerEndpoint.Model, _ block: SageMakerTarget, _ api: SageMakerAPI) async throws {
        try await api.delete("DeleteModel", ["ModelName": .string(model.name)])
        let prefix = "s3://\(block.artifactBucket)/"
        if let artifact = model.artifact, artifact.hasPrefix(prefix) {
            try await api.client.deleteObject(bucket: block.artifactBucket, key: String(artifact.dropFirst(prefix.count)))
        }
    }

    // MARK: - Connection

    private func connection(_ infrastructure: ResolvedInfrastructure) throws -> (SageMakerTarget, SageMakerAPI) {
        guard case .sagemaker(let block) = infrastructure.spec.target else { throw DriverError("not a sagemaker infrastructure", isPermanent: true) }
        let secret = { (key: String) in infrastructure.secret(SecretKeyRef(name: block.credentialsSecretRef.name, key: key)) }
        guard let keyID = secret("accessKeyId"), let secretKey = secret("secretAccessKey") else {
            throw DriverError("secret \"\(block.credentialsSecretRef.name)\" needs accessKeyId and secretAccessKey", isPermanent: true)
        }
        let client = AWSClient(
            credentials: SigV4Signer.Credentials(accessKeyID: keyID, secretAccessKey: secretKey, sessionToken: secret("sessionToken")),
            region: block.region, endpointOverride: block.endpointOverride, http: session.http, now: session.now, pause: session.pause)
        return (block, SageMakerAPI(client: client))
    }

    private func runtimeBase(_ block: SageMakerTarget) -> String {
        block.endpointOverride.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 } ?? "https://runtime.sagemaker.\(block.region).amazonaws.com"
    }
}
