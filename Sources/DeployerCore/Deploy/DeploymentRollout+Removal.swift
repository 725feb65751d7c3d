import DeployerModel
import ReconcileKit

extension DeploymentRollout {
    /// Deletion: pre-delete hooks, the service removed from every target, post-delete hooks,
    /// then the finalizer goes. A failed `Fail` pre-delete hook keeps the deployment.
    mutating func remove() async throws -> ReconcileResult {
        guard (deployment.metadata.finalizers ?? []).contains(ControllerNames.finalizer) else { return .done }
        let context: DeploymentContext
        do {
            context = try await DeploymentContext.resolveForRemoval(spec, namespace: key.namespace, store: reconciler.store, drivers: reconciler.drivers)
        } catch let stall as Stall {
            // Without its infrastructure there is nothing left to remove the service from.
            editor.set(.progressing(reason: "Deleting", message: "\(stall.message); nothing to remove"))
            try await save()
            try await reconciler.store.setFinalizer(ControllerNames.finalizer, present: false, on: key)
            return .done
        }
        if let last = editor.lastRollout, last.trigger == "Delete", last.retry == retry {
            if last.outcome == Outcome.failed { return .done }
        } else {
            editor.begin(trigger: "Delete", retry: retry, requester: requester, to: [])
        }
        editor.set(.progressing(reason: "Deleting", message: "removing \(spec.service) from \(spec.infrastructure)"))
        try await save()
        do {
            try await runHooks(.preDelete, context)
        } catch let stall as Stall {
            editor.finish(Outcome.failed)
            editor.set(.stalled(reason: stall.reason, message: stall.message))
            try await save()
            throw TerminalError(reason: stall.reason, message: stall.message)
        }
        if editor.status.conditions?[type: Condition.Kind.stalled]?.reason != "ServiceAlreadyDeployed" {
            try await removeService(context)
        }
        do {
            try await runHooks(.postDelete, context)
        } catch let stall as Stall {
            editor.log("\(stall.reason): \(stall.message); the deployment is deleted anyway")
        }
        editor.finish(Outcome.succeeded)
        try await save()
        try await reconciler.store.setFinalizer(ControllerNames.finalizer, present: false, on: key)
        return .done
    }

    private mutating func removeService(_ context: DeploymentContext) async throws {
        let observations = await context.driver.observe(service: spec.service, on: context.infrastructure)
        let unreachable = observations.filter { !$0.reachable }
        if !unreachable.isEmpty {
            let message = Self.describe(unreachable)
            editor.set(.progressing(reason: "WaitingForTargets", message: message))
            try await save()
            throw DriverError(message)
        }
        let removals = Dictionary(uniqueKeysWithValues: observations.filter { $0.service != nil }.map { ($0.name, [TargetChange.deleteService]) })
        if let failure = await applyEverywhere(removals, context).first { throw failure.error }
        editor.log("removed \(spec.service) from \(removals.keys.sorted().joined(separator: ", "))")
    }
}
