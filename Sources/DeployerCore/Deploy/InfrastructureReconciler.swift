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
        let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return .done }
        let objectKey = ObjectKey(.infrastructure, namespace: parts[0], name: parts[1])
        let infrastructure: Infrastructure
        do {
            infrastructure = try await store.get(objectKey).document.decode(Infrastructure.self)
        } catch let error as APIError where error.code == 404 {
            return .done
        }
        let generation = infrastructure.metadata.generation ?? 1
        let timestamp = WriteRules.timestamp(now())
        var conditions = infrastructure.status?.conditions ?? []
        func set(_ type: String, _ value: Bool, _ reason: String, _ message: String = "") {
            conditions.set(
                Condition(
                    type: type, status: value ? .true : .false, reason: reason, message: message, observedGeneration: generation,
                    lastTransitionTime: timestamp))
        }
        var targets: [Infrastructure.TargetHealth] = []
        let period = Duration(kubernetesString: infrastructure.spec.resyncPeriod) ?? .seconds(300)
        let result: ReconcileResult
        do {
            guard let driver = drivers[infrastructure.spec.target.typeName] else {
                throw Stall(reason: "UnsupportedInfrastructure", message: "this controller has no driver for \(infrastructure.spec.target.typeName) yet")
            }
            let resolved = try await DeploymentContext.resolveSecrets(infrastructure, namespace: parts[0], store: store)
            let probes = await driver.probe(resolved)
            targets = probes.map { .init(name: $0.name, url: $0.url, healthy: $0.healthy, message: $0.message, lastProbeTime: timestamp) }
            let unhealthy = probes.filter { !$0.healthy }
            if unhealthy.isEmpty {
                set(Condition.Kind.ready, true, "TargetsHealthy", "\(probes.count)/\(probes.count) targets healthy")
                set(Condition.Kind.degraded, false, "TargetsHealthy")
            } else {
                let message = unhealthy.map { "\($0.name): \($0.message)" }.joined(separator: "; ")
                set(Condition.Kind.ready, unhealthy.count < probes.count, unhealthy.count < probes.count ? "SomeTargetsUnhealthy" : "NoTargetHealthy", message)
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
        if status != infrastructure.status {
            let encoded = try JSONValue(encoding: status)
            _ = try await store.modify(objectKey, subresource: .status, createIfMissing: false, dryRun: false) { current in
                guard var document = current else { throw APIError.notFound(.infrastructure, parts[1]) }
                document["status"] = encoded
                return document
            }
        }
        return result
    }
}
