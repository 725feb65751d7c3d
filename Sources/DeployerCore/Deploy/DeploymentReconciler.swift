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
    /// The deployments of a service on an infrastructure, oldest first (the first one owns it).
    let owners: @Sendable (_ namespace: String, _ service: String, _ infrastructure: String) async -> [String]

    public init(
        store: any ResourceStore, drivers: [String: any InfrastructureDriver], hooks: HookRunner<C>,
        now: @escaping @Sendable () -> Date = Date.init, logger: Logger,
        owners: @escaping @Sendable (_ namespace: String, _ service: String, _ infrastructure: String) async -> [String]
    ) {
        self.store = store
        self.drivers = drivers
        self.hooks = hooks
        self.now = now
        self.logger = logger
        self.owners = owners
    }

    public func reconcile(_ key: String, attempt: ReconcileAttempt) async throws -> ReconcileResult {
        let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return .done }
        let objectKey = ObjectKey(.serviceDeployment, namespace: parts[0], name: parts[1])
        let deployment: ServiceDeployment
        do {
            deployment = try await store.get(objectKey).document.decode(ServiceDeployment.self)
        } catch let error as APIError where error.code == 404 {
            return .done
        }
        var rollout = DeploymentRollout(reconciler: self, key: objectKey, deployment: deployment)
        if deployment.metadata.deletionTimestamp != nil {
            return try await rollout.remove()
        }
        if !(deployment.metadata.finalizers ?? []).contains(ControllerNames.finalizer) {
            try await addFinalizer(objectKey)
        }
        return try await rollout.deploy()
    }

    private func addFinalizer(_ key: ObjectKey) async throws {
        _ = try await store.modify(key, subresource: .main, createIfMissing: false, dryRun: false) { current in
            guard var document = current else { throw APIError.notFound(key.kind, key.name) }
            let finalizers = document["metadata"]?["finalizers"]?.arrayValue ?? []
            if !finalizers.contains(.string(ControllerNames.finalizer)) {
                document["metadata"]?["finalizers"] = .array(finalizers + [.string(ControllerNames.finalizer)])
            }
            return document
        }
    }

    /// Writes `status` to the deployment's `/status`.
    func save(_ status: ServiceDeployment.Status, to key: ObjectKey) async throws {
        let encoded = try JSONValue(encoding: status)
        _ = try await store.modify(key, subresource: .status, createIfMissing: false, dryRun: false) { current in
            guard var document = current else { throw APIError.notFound(key.kind, key.name) }
            document["status"] = encoded
            return document
        }
    }

    /// Removes the finalizer, which lets the store delete the object.
    func removeFinalizer(_ key: ObjectKey) async throws {
        _ = try await store.modify(key, subresource: .main, createIfMissing: false, dryRun: false) { current in
            guard var document = current else { throw APIError.notFound(key.kind, key.name) }
            let finalizers = document["metadata"]?["finalizers"]?.arrayValue ?? []
            document["metadata"]?["finalizers"] = .array(finalizers.filter { $0 != .string(ControllerNames.finalizer) })
            return document
        }
    }
}
