import DeployerModel
import Foundation
import Logging
import ReconcileKit

/// Reconciles ServiceDeployments: brings every target of the infrastructure to the desired
/// versions through a recorded rollout (hooks, staging, staged test queries, activation with
/// switch-back, verification), keeps it there (drift is corrected and recorded), and removes
/// the service from the targets before the finalizer goes. Keys are `namespace/name`.
public struct DeploymentReconciler<C: Clock>: Reconciler where C.Duration == Duration {
    let store: any ResourceStore
    let drivers: [String: any InfrastructureDriver]
    let hooks: HookRunner<C>
    let now: @Sendable () -> Date
    let logger: Logger
    /// Receives the rollout transitions (started, succeeded, failed) once they are saved.
    let audit: (any AuditTrail)?
    /// The deployments of a service on an infrastructure, oldest first (the first one owns it).
    let owners: @Sendable (_ namespace: String, _ service: String, _ infrastructure: String) async -> [String]

    public init(
        store: any ResourceStore, drivers: [String: any InfrastructureDriver], hooks: HookRunner<C>,
        now: @escaping @Sendable () -> Date = Date.init, logger: Logger, audit: (any AuditTrail)? = nil,
        owners: @escaping @Sendable (_ namespace: String, _ service: String, _ infrastructure: String) async -> [String]
    ) {
        self.audit = audit
        self.store = store
        self.drivers = drivers
        self.hooks = hooks
        self.now = now
        self.logger = logger
        self.owners = owners
    }

    public func reconcile(_ key: String, attempt: ReconcileAttempt) async throws -> ReconcileResult {
        guard let objectKey = ObjectKey(.serviceDeployment, queueKey: key),
            let deployment = try await store.decoded(ServiceDeployment.self, at: objectKey)
        else { return .done }
        var rollout = DeploymentRollout(reconciler: self, key: objectKey, deployment: deployment)
        if deployment.metadata.deletionTimestamp != nil {
            return try await rollout.remove()
        }
        if !(deployment.metadata.finalizers ?? []).contains(ControllerNames.finalizer) {
            try await store.setFinalizer(ControllerNames.finalizer, present: true, on: objectKey)
        }
        return try await rollout.deploy()
    }
}
