import DeployerModel

/// Which versions a target serves for one service and how traffic is split between them.
/// Entries are kept sorted by version so that two mappings compare equal when they mean the same.
public struct ServingMapping: Hashable, Sendable, CustomStringConvertible {
    public var strategy: ServiceDeployment.Generations.Strategy
    public private(set) var entries: [ServiceDeployment.ActiveGeneration]

    public init(strategy: ServiceDeployment.Generations.Strategy, entries: [ServiceDeployment.ActiveGeneration]) {
        // One entry means no split: the strategy makes no difference, so it is not compared.
        self.strategy = entries.count > 1 ? strategy : .random
        self.entries = entries.sorted { $0.version < $1.version }
    }

    /// The versions named by the mapping.
    public var versions: [String] { entries.map(\.version) }

    public var description: String {
        entries.count == 1 ? entries[0].version : entries.map { "\($0.version):\($0.weight)" }.joined(separator: ",") + " (\(strategy.rawValue))"
    }
}

/// What a target holds for one service.
public struct ObservedService: Hashable, Sendable {
    public var enabled: Bool
    public var generations: Set<String>
    public var mapping: ServingMapping?
    /// Whether the target has query logging settings for the service.
    public var logsQueriesElsewhere: Bool

    public init(enabled: Bool, generations: Set<String>, mapping: ServingMapping?, logsQueriesElsewhere: Bool = false) {
        self.enabled = enabled
        self.generations = generations
        self.mapping = mapping
        self.logsQueriesElsewhere = logsQueriesElsewhere
    }
}

/// One target (a node, an endpoint) as the driver saw it.
public struct TargetObservation: Hashable, Sendable {
    public var name: String
    /// Where callers reach the service on this target.
    public var url: String?
    /// False when the target did not answer; `service` is then unknown.
    public var reachable: Bool
    public var message: String?
    /// Nil when the target has no such service.
    public var service: ObservedService?
    /// Set when the target's last change failed on its side (a managed endpoint that did not
    /// start, an update the platform rolled back): why. Switching again cannot help unless
    /// something changes, so a rollout that already switched stalls on it.
    public var failure: String?

    public init(name: String, url: String?, reachable: Bool, message: String? = nil, service: ObservedService?, failure: String? = nil) {
        self.name = name
        self.url = url
        self.reachable = reachable
        self.message = message
        self.service = service
        self.failure = failure
    }

    /// Whether the target serves exactly `desired`.
    public func serves(_ desired: DesiredServing) -> Bool {
        guard reachable, failure == nil, let service else { return false }
        return service.enabled == desired.enabled && service.mapping == desired.mapping
            && Set(desired.mapping.versions).isSubset(of: service.generations)
    }
}

/// What a deployment asks every target to serve.
public struct DesiredServing: Hashable, Sendable {
    public var service: String
    public var mapping: ServingMapping
    public var enabled: Bool

    public init(service: String, mapping: ServingMapping, enabled: Bool) {
        self.service = service
        self.mapping = mapping
        self.enabled = enabled
    }

    public init(_ spec: ServiceDeployment.Spec) {
        self.init(
            service: spec.service, mapping: ServingMapping(strategy: spec.strategy, entries: spec.desiredVersions), enabled: spec.enabled)
    }
}
