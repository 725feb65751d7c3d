import CloudHTTP
import DeployerCore
import DeployerModel
import Foundation

/// What SageMaker holds for one service: its models (one per version), its endpoint and the
/// endpoint configuration in effect, read with the control-plane calls of the reference (§2).
struct SageMakerEndpoint: Sendable {
    /// A model the driver created: its name, the version it serves and its artifact.
    struct Model: Sendable {
        var name: String
        var version: String
        var artifact: String?
    }

    /// The tag that records the configuration last asked for, so that an update SageMaker rolled
    /// back is told apart from one never requested.
    static let requestedConfigTag = "apideployer.dev/requested-config"
    static let transitional: Set<String> = ["Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting"]

    let name: String
    var models: [Model]
    /// `DescribeEndpoint`'s answer; nil when there is no endpoint.
    var endpoint: JSONValue?
    /// The variants of the configuration in effect: model name and weight.
    var variants: [(model: String, weight: Double)]
    var requestedConfig: String?

    var status: String? { endpoint?["EndpointStatus"]?.stringValue }
    var configName: String? { endpoint?["EndpointConfigName"]?.stringValue }

    /// Reads the models named `<name>-…` and the endpoint `name`.
    static func read(_ name: String, _ api: SageMakerAPI) async throws -> SageMakerEndpoint {
        var models: [Model] = []
        for summary in try await api.call("ListModels", ["NameContains": .string(name), "MaxResults": 100])["Models"]?.arrayValue ?? [] {
            guard let modelName = summary["ModelName"]?.stringValue, modelName.hasPrefix(name + "-"),
                let model = try await api.describe("DescribeModel", ["ModelName": .string(modelName)]),
                let version = model["PrimaryContainer"]?["Environment"]?[SageMakerDriver.versionVariable]?.stringValue
            else { continue }
            models.append(Model(name: modelName, version: version, artifact: model["PrimaryContainer"]?["ModelDataUrl"]?.stringValue))
        }
        var state = SageMakerEndpoint(name: name, models: models.sorted { $0.name < $1.name }, endpoint: nil, variants: [], requestedConfig: nil)
        guard let endpoint = try await api.describe("DescribeEndpoint", ["EndpointName": .string(name)]) else { return state }
        state.endpoint = endpoint
        if let config = state.configName, !transitional.contains(state.status ?? ""),
            let described = try await api.describe("DescribeEndpointConfig", ["EndpointConfigName": .string(config)])
        {
            state.variants = (described["ProductionVariants"]?.arrayValue ?? []).compactMap { variant in
                variant["ModelName"]?.stringValue.map { ($0, variant["InitialVariantWeight"]?.doubleValue ?? 1) }
            }
        }
        if let arn = endpoint["EndpointArn"]?.stringValue {
            let tags = try await api.call("ListTags", ["ResourceArn": .string(arn)])["Tags"]?.arrayValue ?? []
            state.requestedConfig = tags.first { $0["Key"]?.stringValue == requestedConfigTag }?["Value"]?.stringValue
        }
        return state
    }

    func model(for version: String) -> Model? { models.first { $0.version == version } }

    /// The observation of this state as the rollout planner reads it.
    func observation(target: String, url: String) -> TargetObservation {
        if let status, Self.transitional.contains(status) {
            return TargetObservation(name: target, url: url, reachable: false, message: "endpoint \(name) is \(status)", service: nil)
        }
        guard endpoint != nil || !models.isEmpty else { return TargetObservation(name: target, url: url, reachable: true, service: nil) }
        let versions = Dictionary(models.map { ($0.name, $0.version) }, uniquingKeysWith: { first, _ in first })
        let mapping: ServingMapping? =
            variants.isEmpty
            ? nil
            : ServingMapping(
                strategy: .random,
                entries: variants.map { .init(version: versions[$0.model] ?? $0.model, weight: Int($0.weight.rounded())) })
        let service = ObservedService(enabled: status == "InService", generations: Set(models.map(\.version)), mapping: mapping)
        return TargetObservation(name: target, url: url, reachable: true, message: status.map { "endpoint \(name) is \($0)" }, service: service, failure: failure)
    }

    /// Why the endpoint does not serve what was last asked of it: `Failed`, or `InService` on
    /// an older configuration than the one requested (an update SageMaker rolled back).
    var failure: String? {
        let reason = endpoint?["FailureReason"]?.stringValue
        if status == "Failed" { return "endpoint \(name) failed: \(reason ?? "no reason given")" }
        if status == "InService", let requestedConfig, requestedConfig != configName {
            return "the update of endpoint \(name) to \(requestedConfig) was rolled back: \(reason ?? "no reason given")"
        }
        return nil
    }
}

/// SageMaker's control plane through one signed client: `SageMaker.{operation}` calls, and
/// "not found" (a `ValidationException` whose message starts "Could not find") as nil.
struct SageMakerAPI: Sendable {
    let client: AWSClient

    func call(_ operation: String, _ body: JSONValue) async throws -> JSONValue {
        try await client.json(service: "sagemaker", target: "SageMaker.\(operation)", body)
    }

    func describe(_ operation: String, _ body: JSONValue) async throws -> JSONValue? {
        do {
            return try await call(operation, body)
        } catch let error as AWSError where Self.isNotFound(error) {
            return nil
        }
    }

    /// Creates a resource; one that already exists is fine (the name says what it holds).
    func create(_ operation: String, _ body: JSONValue) async throws {
        do {
            _ = try await call(operation, body)
        } catch let error as AWSError where error.code == "ValidationException" && error.message.lowercased().contains("already exist") {
            return
        }
    }

    /// Deletes a resource; one already gone is fine.
    func delete(_ operation: String, _ body: JSONValue) async throws {
        _ = try await describe(operation, body)
    }

    static func isNotFound(_ error: AWSError) -> Bool {
        error.code == "ValidationException" && error.message.lowercased().hasPrefix("could not find")
    }
}
