import DeployerModel
import Foundation

/// An infrastructure with the secret values its target block refers to, resolved by the
/// reconciler. Its description never shows the values.
public struct ResolvedInfrastructure: Sendable, CustomStringConvertible {
    public let name: String
    public let namespace: String
    public let spec: Infrastructure.Spec
    let secretValues: [SecretKeyRef: String]

    public init(name: String, namespace: String, spec: Infrastructure.Spec, secretValues: [SecretKeyRef: String]) {
        self.name = name
        self.namespace = namespace
        self.spec = spec
        self.secretValues = secretValues
    }

    /// The value of a referenced secret key (resolved before the driver is called).
    public func secret(_ reference: SecretKeyRef) -> String? { secretValues[reference] }

    public var description: String { "infrastructure \(namespace)/\(name) (\(spec.target.typeName), \(secretValues.count) secret values redacted)" }

    /// The secret keys the target block and the logging block refer to (a platform's
    /// credentials secret holds fixed keys, documented on its block).
    public static func references(of spec: Infrastructure.Spec) -> [SecretKeyRef] {
        let loggingReferences = spec.logging?.eventServer?.authKeySecretRef.map { [$0] } ?? []
        let keys = { (secret: SecretRef, names: [String]) in names.map { SecretKeyRef(name: secret.name, key: $0) } }
        return switch spec.target {
        case .static(let block): block.nodes.flatMap { [$0.adminKeySecretRef] + ($0.tls?.references ?? []) } + loggingReferences
        case .sagemaker(let block): keys(block.credentialsSecretRef, ["accessKeyId", "secretAccessKey"]) + loggingReferences
        case .azureml(let block): keys(block.credentialsSecretRef, ["clientId", "clientSecret"]) + loggingReferences
        case .vertexai(let block): keys(block.credentialsSecretRef, ["serviceAccountJSON"]) + loggingReferences
        case .snowpark(let block): keys(block.credentialsSecretRef, ["privateKeyPEM"]) + loggingReferences
        case .kubernetes(let block): (block.kubeconfigSecretRef.map { [$0] } ?? []) + loggingReferences
        }
    }

    /// Secret keys read when present (temporary AWS credentials' session token).
    public static func optionalReferences(of spec: Infrastructure.Spec) -> [SecretKeyRef] {
        guard case .sagemaker(let block) = spec.target else { return [] }
        return [SecretKeyRef(name: block.credentialsSecretRef.name, key: "sessionToken")]
    }
}

/// A package archive: its digest and where to fetch it (nil: the deployer's package store).
public struct PackageReference: Hashable, Sendable {
    public var sha256: String
    public var url: String?

    public init(sha256: String, url: String?) {
        self.sha256 = sha256
        self.url = url
    }
}

/// Gives a local file holding a package archive whose sha256 has been checked.
public protocol PackageSource: Sendable {
    func archive(for reference: PackageReference) async throws -> URL
}

/// One change to one target, for one service.
public enum TargetChange: Hashable, Sendable, CustomStringConvertible {
    case createService
    /// Uploads and imports a version; it is available, not active.
    case importGeneration(version: String, package: PackageReference)
    case setTuning(endpoint: String, ServiceDeployment.EndpointTuning)
    /// Sets where query events go; nil removes the settings (the target's own default).
    case setQueryLogging(QueryLoggingSettings?)
    /// Sets how callers authenticate.
    case setCallerAuth(CallerAuth)
    /// Activates the mapping (which enables the service).
    case setMapping(ServingMapping)
    case setEnabled(Bool)
    case removeGeneration(String)
    case deleteService

    public var description: String {
        switch self {
        case .createService: "create the service"
        case .importGeneration(let version, _): "import \(version)"
        case .setTuning(let endpoint, _): "tune \(endpoint)"
        case .setQueryLogging(let settings): settings.map { "\($0)" } ?? "remove the query logging settings"
        case .setCallerAuth(let settings): "set caller authentication: \(settings.summary)"
        case .setMapping(let mapping): "activate \(mapping)"
        case .setEnabled(let enabled): enabled ? "enable" : "disable"
        case .removeGeneration(let version): "remove \(version)"
        case .deleteService: "delete the service"
        }
    }
}

/// The health of one target of an infrastructure.
public struct TargetProbe: Hashable, Sendable {
    public var name: String
    public var url: String?
    public var healthy: Bool
    public var message: String

    public init(name: String, url: String?, healthy: Bool, message: String) {
        self.name = name
        self.url = url
        self.healthy = healthy
        self.message = message
    }
}

/// An answer to a query sent to a deployed endpoint.
public struct QueryAnswer: Sendable {
    public var status: Int
    public var body: JSONValue

    public init(status: Int, body: JSONValue) {
        self.status = status
        self.body = body
    }
}

/// Talks to one type of infrastructure. Drivers observe and change targets and report what
/// they saw; only reconcilers write status. Errors thrown are retried with backoff.
public protocol InfrastructureDriver: Sendable {
    /// The names of the targets (nodes, endpoints) of an infrastructure.
    func targetNames(of infrastructure: ResolvedInfrastructure) -> [String]
    /// Checks that every target answers and accepts the credentials.
    func probe(_ infrastructure: ResolvedInfrastructure) async -> [TargetProbe]
    /// What every target holds for `service`.
    func observe(service: String, on infrastructure: ResolvedInfrastructure) async -> [TargetObservation]
    /// Makes one change on one target.
    func apply(_ change: TargetChange, service: String, target: String, on infrastructure: ResolvedInfrastructure) async throws
    /// Sends a query to a deployed endpoint on one target.
    func query(service: String, _ query: PublicQuery, target: String, on infrastructure: ResolvedInfrastructure) async throws -> QueryAnswer
}

/// A query to a deployed endpoint: its verb and body, and the generation it must reach (staged
/// tests), if any.
public struct PublicQuery: Sendable {
    public var endpoint: String
    public var verb: String
    public var body: JSONValue
    public var forcedGeneration: String?

    public init(endpoint: String, verb: String = "predict", body: JSONValue, forcedGeneration: String? = nil) {
        self.endpoint = endpoint
        self.verb = verb
        self.body = body
        self.forcedGeneration = forcedGeneration
    }
}

/// A driver failure with a message fit for conditions (no secrets).
public struct DriverError: Error, Sendable, CustomStringConvertible {
    public let message: String
    /// True when retrying cannot help (the target refused the request as invalid).
    public let isPermanent: Bool

    public init(_ message: String, isPermanent: Bool = false) {
        self.message = message
        self.isPermanent = isPermanent
    }

    public var description: String { message }
}
