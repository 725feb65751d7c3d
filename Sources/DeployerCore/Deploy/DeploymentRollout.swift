import DeployerModel
import Foundation
import ReconcileKit

/// One reconcile of one deployment: reads the status once, edits it step by step, and writes
/// it after every recorded step, so a restarted controller resumes from the last record.
struct DeploymentRollout<C: Clock> where C.Duration == Duration {
    typealias Outcome = DeploymentStatusEditor.Outcome
    static var maximumPasses: Int { 8 }

    let reconciler: DeploymentReconciler<C>
    let key: ObjectKey
    let deployment: ServiceDeployment
    let generation: Int64
    let retry: String?
    var editor: DeploymentStatusEditor
    /// The status as last written (transitions are audited against it).
    var saved: ServiceDeployment.Status?

    init(reconciler: DeploymentReconciler<C>, key: ObjectKey, deployment: ServiceDeployment) {
        self.reconciler = reconciler
        self.key = key
        self.deployment = deployment
        generation = deployment.metadata.generation ?? 1
        retry = deployment.metadata.annotations?[ControllerNames.retryAnnotation]
        editor = DeploymentStatusEditor(deployment.status, generation: generation, now: WriteRules.timestamp(reconciler.now()))
        saved = deployment.status
    }

    var spec: ServiceDeployment.Spec { deployment.spec }
    var desired: DesiredServing { DesiredServing(spec) }
    var requester: String? { deployment.metadata.annotations?[ControllerNames.requesterAnnotation] }

    mutating func save() async throws {
        guard editor.status != saved else { return }
        try await reconciler.store.writeStatus(editor.status, to: key)
        if let audit = reconciler.audit {
            for event in AuditEvent.rolloutTransitions(deployment: key, from: saved, to: editor.status, at: reconciler.now()) { audit.record(event) }
        }
        saved = editor.status
    }

    /// Brings the targets to the spec, or keeps them there.
    mutating func deploy() async throws -> ReconcileResult {
        let context: DeploymentContext
        do {
            context = try await DeploymentContext.resolve(
                spec, namespace: key.namespace, store: reconciler.store, drivers: reconciler.drivers)
            try await checkOwnership()
        } catch let stall as Stall {
            // A missing reference clears itself when the referenced object appears (watched).
            editor.set(.stalled(reason: stall.reason, message: stall.message))
            try await save()
            throw TerminalError(reason: stall.reason, message: stall.message)
        }
        switch editor.rollout(retry: retry)?.outcome {
        case Outcome.failed?:
            return .done
        case Outcome.succeeded?:
            return try await keepServing(context)
        case Outcome.inProgress?:
            break
        default:
            let previous = editor.lastRollout
            let trigger = previous?.generation == generation && previous?.retry != retry ? "Retry" : "Spec"
            editor.begin(trigger: trigger, retry: retry, requester: requester, to: desired.mapping.versions)
            editor.set(.progressing(reason: "RolloutStarted", message: "rolling out \(desired.mapping)"))
            try await save()
        }
        do {
            return try await progress(context)
        } catch let stall as Stall {
            editor.log("\(stall.reason): \(stall.message)")
            editor.finish(Outcome.failed)
            editor.set(.stalled(reason: stall.reason, message: stall.message))
            try await save()
            throw TerminalError(reason: stall.reason, message: stall.message)
        }
    }

    /// The first deployment of a service on an infrastructure owns it; later ones stall.
    private func checkOwnership() async throws {
        let owners = await reconciler.owners(key.namespace, spec.service, spec.infrastructure)
        if let owner = owners.first, owner != key.name {
            throw Stall(
                reason: "ServiceAlreadyDeployed",
                message: "deployment \"\(owner)\" already deploys \"\(spec.service)\" on \"\(spec.infrastructure)\"")
        }
    }

    /// A rollout that succeeded at this generation: confirm the targets still serve it, report
    /// lost targets as Degraded, and correct drift with a recorded rollout.
    private mutating func keepServing(_ context: DeploymentContext) async throws -> ReconcileResult {
        let observations = await context.driver.observe(service: spec.service, on: context.infrastructure)
        let desired = self.desired
        if observations.allSatisfy(\.reachable) { try await configureCallerAuth(observations, context) }
        if observations.allSatisfy({ $0.serves(desired) }) {
            editor.set(.ready(message: "\(desired.mapping) active on \(observations.count)/\(observations.count) targets"))
            editor.status.targets = targets(observations)
            try await save()
            return .requeue(after: resyncPeriod(context))
        }
        let unreachable = observations.filter { !$0.reachable }
        if !unreachable.isEmpty {
            let message = Self.describe(unreachable)
            editor.set(.degraded(reason: "TargetsUnavailable", message: message))
            editor.status.targets = targets(observations)
            try await save()
            throw DriverError(message)
        }
        editor.begin(trigger: "Drift", retry: retry, requester: "controller", to: desired.mapping.versions)
        for target in observations where !target.serves(desired) {
            editor.log("drift on \(target.name): serves \(target.service?.mapping?.description ?? "nothing"), enabled \(target.service?.enabled ?? false)")
        }
        editor.set(.progressing(reason: "CorrectingDrift", message: "a target no longer serves \(desired.mapping)"))
        try await save()
        return try await progress(context)
    }

    /// Runs the current rollout from where its record and the targets say it is.
    private mutating func progress(_ context: DeploymentContext) async throws -> ReconcileResult {
        let withHooks = editor.lastRollout?.trigger != "Drift"
        if withHooks { try await runHooks(.preDeploy, context) }
        for _ in 0..<Self.maximumPasses {
            let observations = await context.driver.observe(service: spec.service, on: context.infrastructure)
            switch RolloutPlanner.plan(desired, packages: context.packages, observations: observations) {
            case .waitForTargets(let names):
                let message = Self.describe(observations.filter { names.contains($0.name) })
                editor.set(.progressing(reason: "WaitingForTargets", message: message))
                editor.status.targets = targets(observations)
                try await save()
                throw DriverError(message)
            case .stage(let changes):
                editor.set(.progressing(reason: "Staging", message: "making \(desired.mapping.versions.joined(separator: ", ")) available on \(changes.keys.sorted().joined(separator: ", "))"))
                try await save()
                try await stage(changes, observations: observations, context)
            case .activate(let names):
                try stallOnFailedTargets(names, observations)
                try await testStaged(observations, context)
                try await tune(observations, context)
                try await configureQueryLogging(observations, context)
                try await configureCallerAuth(observations, context)
                editor.set(.progressing(reason: "Activating", message: "switching \(names.sorted().joined(separator: ", ")) to \(desired.mapping)"))
                try await save()
                try await activate(names, observations: observations, context)
                try await recordActivation(names)
            case .converged(let cleanup):
                return try await complete(observations: observations, cleanup: cleanup, withHooks: withHooks, context)
            }
        }
        throw DriverError("the targets did not reach \(desired.mapping) after \(Self.maximumPasses) passes")
    }

    /// Verifies, runs post-deploy hooks, tidies unused generations and records success.
    private mutating func complete(
        observations: [TargetObservation], cleanup: [String: [TargetChange]], withHooks: Bool, _ context: DeploymentContext
    ) async throws -> ReconcileResult {
        try await tune(observations, context)
        try await configureQueryLogging(observations, context)
        try await configureCallerAuth(observations, context)
        try await verify(observations, context)
        if withHooks { try await runHooks(.postDeploy, context) }
        for (target, changes) in cleanup {
            for change in changes {
                do {
                    try await context.driver.apply(change, service: spec.service, target: target, on: context.infrastructure)
                } catch {
                    editor.log("\(target): could not \(change): \(error)")
                }
            }
        }
        editor.log("\(desired.mapping) active on \(observations.map(\.name).sorted().joined(separator: ", "))")
        editor.finish(Outcome.succeeded)
        editor.status.activeGenerations = desired.mapping.entries
        editor.status.targets = targets(observations)
        editor.set(.ready(message: "\(desired.mapping) active on \(observations.count)/\(observations.count) targets"))
        try await save()
        return .requeue(after: resyncPeriod(context))
    }

    func resyncPeriod(_ context: DeploymentContext) -> Duration { context.infrastructure.spec.resyncDuration }

    func targets(_ observations: [TargetObservation]) -> [ServiceDeployment.Target] {
        let desired = self.desired
        return observations.map { target in
            ServiceDeployment.Target(
                name: target.name, url: target.url, healthy: target.serves(desired), generations: target.service?.mapping?.versions,
                message: target.failure ?? target.message)
        }
    }

    static func describe(_ unreachable: [TargetObservation]) -> String {
        unreachable.map { "\($0.name): \($0.message ?? "did not answer")" }.joined(separator: "; ")
    }
}
