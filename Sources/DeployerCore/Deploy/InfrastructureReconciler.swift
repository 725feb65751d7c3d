import DeployerModel
import Foundation
import ReconcileKit

/// Reconciles Infrastructures: probes every target (reachability and credentials) and
/// reports `Ready` (all healthy), `Degraded` (some not) and per-target health, then probes
/// again after the infrastructure's resync period. Keys are `namespace/name`.
public struct InfrastructureReconciler: Reconciler {
    let store: any ResourceStore
    let drivers: [String: any InfrastructureDriver]
    let now: @Sendable () -> Date

    public init(store: any ResourceStore, drivers: [String: any InfrastructureDriver], now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.drivers = drivers
        self.now = now
    }

    public func reconcile(_ key: String, attempt: ReconcileAttempt) async throws -> ReconcileResult {
        guard let objectKey = ObjectKey(.infrastructure, queueKey: key),
            let infrastructure = try await store.decoded(Infrastructure.self, at: objectKey)
        else { return .done }
        let generation = infrastructure.metadata.generation ?? 1
        let timestamp = WriteRules.timestamp(now())
        var conditions = infrastructure.status?.conditions ?? []
        func set(_ type: String, _ value: Bool, _ reason: String, _ message: String = "") {
            conditions.set(type, value, reason: reason, message: message, generation: generation, at: timestamp)
        }
        var targets: [Infrastructure.TargetHealth] = []
        let period = infrastructure.spec.resyncDuration
        let result: ReconcileResult
        do {
            let driver = try DeploymentContext.driver(for: infrastructure.spec, in: drivers)
            let resolved = try await DeploymentContext.resolveSecrets(infrastructure, namespace: objectKey.namespace, store: store)
            let probes = await driver.probe(resolved)
            targets = probes.map { .init(name: $0.name, url: $0.url, healthy: $0.healthy, message: $0.message, lastProbeTime: timestamp) }
            let unhealthy = probes.filter { !$0.healthy }
            if unhealthy.isEmpty {
                set(Condition.Kind.ready, true, "TargetsHealthy", "\(probes.count)/\(probes.count) targets healthy")
                set(Condition.Kind.degraded, false, "TargetsHealthy")
            } else {
                let message = unhealthy.map { "\($0.name): \($0.message)" }.joined(separator: "; ")
                let someHealthy = unhealthy.count < probes.count
                set(Condition.Kind.ready, someHealthy, someHealthy ? "SomeTargetsUnhealthy" : "NoTargetHealthy", message)
                set(Condition.Kind.degraded, true, "TargetsUnhealthy", message)
            }
            set(Condition.Kind.stalled, false, "Probed")
            // Unhealthy targets are probed again sooner, within the resync period.
            result = .requeue(after: unhealthy.isEmpty ? period : min(period, .seconds(15)))
        } catch let stall as Stall {
            set(Condition.Kind.ready, false, stall.reason, stall.message)
            set(Condition.Kind.stalled, true, stall.reason, stall.message)
            result = .done
        }
        let status = Infrastructure.Status(observedGeneration: generation, conditions: conditions, targets: targets)
        if status != infrastructure.status { try await store.writeStatus(status, to: objectKey) }
        return result
    }
}
