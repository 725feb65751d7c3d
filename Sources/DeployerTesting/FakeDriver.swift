import DeployerCore
import DeployerModel
import Foundation

/// An in-memory `InfrastructureDriver`: targets that hold services the way API nodes do, with
/// failures to inject per target and change, and a log of every change applied.
public final class FakeDriver: InfrastructureDriver, @unchecked Sendable {
    private let lock = NSLock()
    private var services: [String: [String: ObservedService]] = [:]
    private var unreachable: Set<String> = []
    private var failing: [(target: String, matches: @Sendable (TargetChange) -> Bool, error: DriverError)] = []
    private var answers: [String: QueryAnswer] = [:]
    public private(set) var applied: [(target: String, change: TargetChange)] = []
    public let targets: [String]

    public init(targets: [String]) { self.targets = targets }

    /// What `target` holds for `service`.
    public func state(of target: String, service: String = "churn") -> ObservedService? { lock.withLock { services[target]?[service] } }

    /// Replaces what `target` holds (a change behind the controller's back).
    public func setState(_ state: ObservedService?, of target: String, service: String = "churn") {
        lock.withLock { services[target, default: [:]][service] = state }
    }

    public func setReachable(_ reachable: Bool, _ target: String) {
        lock.withLock {
            if reachable { unreachable.remove(target) } else { unreachable.insert(target) }
        }
    }

    /// Makes changes matching `matches` on `target` fail with `error` until `clearFailures()`.
    public func fail(_ target: String, with error: DriverError, when matches: @escaping @Sendable (TargetChange) -> Bool) {
        lock.withLock { failing.append((target, matches, error)) }
    }

    public func clearFailures() { lock.withLock { failing.removeAll() } }

    /// The answer queries to `version` get (default: 200 with prediction "1").
    public func answer(_ answer: QueryAnswer, forVersion version: String) { lock.withLock { answers[version] = answer } }

    public var appliedChanges: [(target: String, change: TargetChange)] { lock.withLock { applied } }

    public func targetNames(of infrastructure: ResolvedInfrastructure) -> [String] { targets }

    public func probe(_ infrastructure: ResolvedInfrastructure) async -> [TargetProbe] {
        lock.withLock {
            targets.map { TargetProbe(name: $0, url: "fake://\($0)", healthy: !unreachable.contains($0), message: unreachable.contains($0) ? "down" : "up") }
        }
    }

    public func observe(service: String, on infrastructure: ResolvedInfrastructure) async -> [TargetObservation] {
        lock.withLock {
            targets.map { target in
                unreachable.contains(target)
                    ? TargetObservation(name: target, url: nil, reachable: false, message: "connection refused", service: nil)
                    : TargetObservation(name: target, url: "fake://\(target)/\(service)", reachable: true, service: services[target]?[service])
            }
        }
    }

    public func apply(_ change: TargetChange, service: String, target: String, on infrastructure: ResolvedInfrastructure) async throws {
        try lock.withLock {
            if unreachable.contains(target) { throw DriverError("\(target) did not answer") }
            if let failure = failing.first(where: { $0.target == target && $0.matches(change) }) { throw failure.error }
            applied.append((target, change))
            var state = services[target]?[service]
            switch change {
            case .createService: state = state ?? ObservedService(enabled: true, generations: [], mapping: nil)
            case .importGeneration(let version, _): state?.generations.insert(version)
            case .setTuning, .setCallerAuth: break
            case .setQueryLogging(let settings): state?.logsQueriesElsewhere = settings != nil
            case .setMapping(let mapping):
                state?.mapping = mapping
                state?.enabled = true
            case .setEnabled(let enabled): state?.enabled = enabled
            case .removeGeneration(let version): state?.generations.remove(version)
            case .deleteService: state = nil
            }
            services[target, default: [:]][service] = state
        }
    }

    public func query(service: String, _ query: PublicQuery, target: String, on infrastructure: ResolvedInfrastructure) async throws -> QueryAnswer {
        try lock.withLock {
            if unreachable.contains(target) { throw DriverError("\(target) did not answer") }
            let state = services[target]?[service]
            let version = query.forcedGeneration ?? state?.mapping?.versions.first
            guard let version, state?.generations.contains(version) == true else {
                return QueryAnswer(status: 503, body: ["message": "no active generation"])
            }
            return answers[version] ?? QueryAnswer(status: 200, body: ["result": ["prediction": "1"]])
        }
    }
}
