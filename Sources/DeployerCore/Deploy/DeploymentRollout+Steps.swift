import DeployerModel

/// The steps of a rollout. Each recorded step (hooks, staged tests, tuning, verification) is
/// written to the history before the rollout moves on and is not repeated once recorded.
extension DeploymentRollout {
    /// Runs the hooks of `phase` that have no result yet; a failed `Fail` hook stalls the rollout.
    mutating func runHooks(_ phase: HookPhase, _ context: DeploymentContext) async throws {
        for hook in context.hooks.hooks(for: phase) where !editor.hasResult(name: hook.name, phase: phase.rawValue) {
            editor.set(.progressing(reason: "RunningHooks", message: "\(phase.rawValue) hook \(hook.name)"))
            try await save()
            let outcome = try await reconciler.hooks.run(
                hook, transition: transition(phase),
                secret: { [store = reconciler.store, namespace = key.namespace] reference in
                    try await DeploymentContext.secretValue(reference, namespace: namespace, store: store)
                },
                testQueries: { [self] queries in try await self.firstFailure(of: queries, forcing: false, context) })
            editor.record(name: hook.name, phase: phase.rawValue, outcome: outcome)
            try await save()
            if case .failed(let message) = outcome, hook.failurePolicy == .fail {
                let reason = phase.rawValue.prefix(1).uppercased() + phase.rawValue.dropFirst() + "HookFailed"
                throw Stall(reason: reason, message: "hook \(hook.name): \(message)")
            }
        }
    }

    func transition(_ phase: HookPhase) -> HookTransition {
        HookTransition(
            phase: phase.rawValue, deployment: key.name, namespace: key.namespace, service: spec.service,
            infrastructure: spec.infrastructure, generation: generation, rolloutID: editor.lastRollout?.id ?? 0,
            from: editor.lastRollout?.from ?? [], to: editor.lastRollout?.to ?? [], requester: editor.lastRollout?.requester)
    }

    /// Makes the desired versions available on the targets. A package the target refuses stalls
    /// the rollout after the generations it staged are removed again.
    mutating func stage(_ changes: [String: [TargetChange]], observations: [TargetObservation], _ context: DeploymentContext) async throws {
        let failures = await applyEverywhere(changes, context)
        guard let failure = failures.first else { return }
        if failures.contains(where: { $0.error.isPermanent }) {
            await removeStaged(context)
            throw Stall(reason: "ImportFailed", message: "\(failure.target): \(failure.error.message)")
        }
        throw failure.error
    }

    /// Sends the test queries to every desired version on every target before anything is
    /// activated (`dispatch.forcedGeneration`); a failure stalls with nothing switched.
    mutating func testStaged(_ observations: [TargetObservation], _ context: DeploymentContext) async throws {
        guard !(spec.testQueries ?? []).isEmpty, !editor.hasResult(name: RolloutStep.stagedTests, phase: RolloutStep.phase) else { return }
        editor.set(.progressing(reason: "Testing", message: "sending test queries to \(desired.mapping.versions.joined(separator: ", ")) before activation"))
        try await save()
        if let failure = try await firstFailure(of: spec.testQueries ?? [], forcing: true, context) {
            editor.record(name: RolloutStep.stagedTests, phase: RolloutStep.phase, outcome: .failed(failure))
            await removeStaged(context)
            throw Stall(reason: "TestQueryFailed", message: failure)
        }
        editor.record(name: RolloutStep.stagedTests, phase: RolloutStep.phase, outcome: .succeeded("\(spec.testQueries?.count ?? 0) test queries passed on every target"))
        try await save()
    }

    /// Applies the endpoint tuning of the spec on every target, once per rollout.
    mutating func tune(_ observations: [TargetObservation], _ context: DeploymentContext) async throws {
        guard let tuning = spec.endpointTuning, !tuning.isEmpty, !editor.hasResult(name: RolloutStep.tuning, phase: RolloutStep.phase) else { return }
        let changes = Dictionary(uniqueKeysWithValues: observations.map { target in
            (target.name, tuning.keys.sorted().map { TargetChange.setTuning(endpoint: $0, tuning[$0]!) })
        })
        if let failure = await applyEverywhere(changes, context).first {
            if failure.error.isPermanent { throw Stall(reason: "TuningRefused", message: "\(failure.target): \(failure.error.message)") }
            throw failure.error
        }
        editor.record(name: RolloutStep.tuning, phase: RolloutStep.phase, outcome: .succeeded("\(tuning.count) endpoints tuned"))
        try await save()
    }

    /// Sets where the targets send this deployment's query events, once per rollout (and removes
    /// settings a target still has when the infrastructure no longer logs anywhere).
    mutating func configureQueryLogging(_ observations: [TargetObservation], _ context: DeploymentContext) async throws {
        guard !editor.hasResult(name: RolloutStep.queryLogging, phase: RolloutStep.phase) else { return }
        let settings = QueryLoggingSettings.desired(deployment: key.name, on: context.infrastructure)
        let targets = settings == nil ? observations.filter { $0.service?.logsQueriesElsewhere == true } : observations
        guard !targets.isEmpty else { return }
        let changes = Dictionary(uniqueKeysWithValues: targets.map { ($0.name, [TargetChange.setQueryLogging(settings)]) })
        if let failure = await applyEverywhere(changes, context).first {
            if failure.error.isPermanent { throw Stall(reason: "QueryLoggingRefused", message: "\(failure.target): \(failure.error.message)") }
            throw failure.error
        }
        editor.record(
            name: RolloutStep.queryLogging, phase: RolloutStep.phase,
            outcome: .succeeded(settings.map { "\($0) on every target" } ?? "query logging settings removed"))
        try await save()
    }

    /// Sets how callers authenticate on every target, once per rollout and whenever the settings
    /// changed since, before anything is activated: a new version is never served with weaker
    /// authentication than the spec asks.
    mutating func configureCallerAuth(_ observations: [TargetObservation], _ context: DeploymentContext) async throws {
        let current = editor.status.callerAuth == context.callerAuth.fingerprint
        guard !current || !editor.hasResult(name: RolloutStep.callerAuth, phase: RolloutStep.phase) else { return }
        let changes = Dictionary(uniqueKeysWithValues: observations.map { ($0.name, [TargetChange.setCallerAuth(context.callerAuth)]) })
        if let failure = await applyEverywhere(changes, context).first {
            if failure.error.isPermanent { throw Stall(reason: "CallerAuthRefused", message: "\(failure.target): \(failure.error.message)") }
            throw failure.error
        }
        if editor.hasResult(name: RolloutStep.callerAuth, phase: RolloutStep.phase) {
            editor.log("caller authentication changed: \(context.callerAuth.summary) on every target")
        } else {
            editor.record(name: RolloutStep.callerAuth, phase: RolloutStep.phase, outcome: .succeeded("\(context.callerAuth.summary) on every target"))
        }
        editor.status.callerAuth = context.callerAuth.fingerprint
        try await save()
    }

    /// Switches the targets; if some cannot switch (after one more try), the ones already
    /// switched go back, so the deployment is never left half on one version.
    mutating func activate(_ names: [String], observations: [TargetObservation], _ context: DeploymentContext) async throws {
        let changes = Dictionary(uniqueKeysWithValues: names.map { ($0, RolloutPlanner.activation(desired)) })
        var failures = await applyEverywhere(changes, context)
        if !failures.isEmpty {
            let again = Dictionary(uniqueKeysWithValues: failures.map { ($0.target, changes[$0.target]!) })
            failures = await applyEverywhere(again, context)
        }
        guard !failures.isEmpty else { return }
        let failed = Set(failures.map(\.target))
        let previous = Dictionary(uniqueKeysWithValues: observations.map { ($0.name, $0.service) })
        let switched = names.filter { !failed.contains($0) }
        let restores = Dictionary(uniqueKeysWithValues: switched.map { ($0, RolloutPlanner.restore(previous[$0] ?? nil)) })
        let restoreFailures = await applyEverywhere(restores, context)
        let message = failures.map { "\($0.target): \($0.error.message)" }.joined(separator: "; ")
        editor.log("activation failed (\(message)); switched back \(switched.isEmpty ? "nothing" : switched.joined(separator: ", "))"
            + (restoreFailures.isEmpty ? "" : "; could not switch back \(restoreFailures.map(\.target).joined(separator: ", "))"))
        editor.set(.progressing(reason: "ActivationFailed", message: message))
        try await save()
        if failures.contains(where: { $0.error.isPermanent }) {
            throw Stall(reason: "ActivationRefused", message: message)
        }
        throw DriverError("activation failed: \(message)")
    }

    /// A target that failed on its side after this rollout switched it (a platform endpoint in
    /// `Failed`, an update the platform rolled back) stalls the rollout with the target's reason:
    /// switching again would fail the same way. A new generation or a retry switches once more.
    func stallOnFailedTargets(_ names: [String], _ observations: [TargetObservation]) throws {
        let failed = observations.filter { names.contains($0.name) && $0.failure != nil }
        guard !failed.isEmpty, editor.hasResult(name: RolloutStep.activation, phase: RolloutStep.phase) else { return }
        throw Stall(reason: "TargetFailed", message: failed.map { "\($0.name): \($0.failure ?? "")" }.joined(separator: "; "))
    }

    /// Records, once per rollout, that the targets were asked to switch.
    mutating func recordActivation(_ names: [String]) async throws {
        guard !editor.hasResult(name: RolloutStep.activation, phase: RolloutStep.phase) else { return }
        editor.record(name: RolloutStep.activation, phase: RolloutStep.phase, outcome: .succeeded("switch requested on \(names.sorted().joined(separator: ", "))"))
        try await save()
    }

    /// Checks, once every target serves the mapping, that the test queries pass; if they do
    /// not, the targets go back to the versions served before the rollout and it stalls.
    mutating func verify(_ observations: [TargetObservation], _ context: DeploymentContext) async throws {
        guard !editor.hasResult(name: RolloutStep.verification, phase: RolloutStep.phase) else { return }
        let forcing = desired.mapping.entries.count > 1
        if let failure = try await firstFailure(of: spec.testQueries ?? [], forcing: forcing, context) {
            editor.record(name: RolloutStep.verification, phase: RolloutStep.phase, outcome: .failed(failure))
            if let previous = previousMapping {
                let restores = Dictionary(uniqueKeysWithValues: observations.map { ($0.name, [TargetChange.setMapping(previous)]) })
                let failures = await applyEverywhere(restores, context)
                editor.log("switched back to \(previous)" + (failures.isEmpty ? "" : " except on \(failures.map(\.target).joined(separator: ", "))"))
            }
            throw Stall(reason: "VerificationFailed", message: failure)
        }
        editor.record(name: RolloutStep.verification, phase: RolloutStep.phase, outcome: .succeeded("every target serves \(desired.mapping)"))
        try await save()
    }

    /// What was served before this rollout (nil when nothing was).
    var previousMapping: ServingMapping? {
        guard let active = editor.status.activeGenerations, !active.isEmpty else { return nil }
        return ServingMapping(strategy: .random, entries: active)
    }

    /// Removes generations that are neither desired-and-active nor mapped: what a failed
    /// staging or a failed staged test left behind.
    func removeStaged(_ context: DeploymentContext) async {
        let observations = await context.driver.observe(service: spec.service, on: context.infrastructure)
        _ = await applyEverywhere(RolloutPlanner.unusedGenerations(keeping: [], observations), context)
    }

    /// The first test query the deployed service answers wrongly (4xx, or not what `expect`
    /// says), as a message; nil when all pass. A target that does not answer, or answers 5xx,
    /// proves nothing about the version: that throws, and the rollout retries with backoff.
    func firstFailure(of queries: [TestQuery], forcing: Bool, _ context: DeploymentContext) async throws -> String? {
        guard !queries.isEmpty else { return nil }
        let versions: [String?] = forcing ? desired.mapping.versions : [nil]
        for target in context.targetNames {
            for query in queries {
                for version in versions {
                    let label = "test query to \(query.endpoint) on \(target)" + (version.map { " (\($0))" } ?? "")
                    let answer = try await context.driver.query(
                        service: spec.service, PublicQuery(endpoint: query.endpoint, verb: query.verb ?? "predict", body: query.query, forcedGeneration: version),
                        target: target, on: context.infrastructure)
                    guard answer.status < 500 else { throw DriverError("\(label): HTTP \(answer.status); retrying") }
                    guard (200..<300).contains(answer.status) else {
                        return "\(label): HTTP \(answer.status) \(answer.body["message"]?.stringValue ?? "")"
                    }
                    if let expect = query.expect, !TestQueryMatch.matches(expect, answer.body) {
                        return "\(label): expected \(String(decoding: expect.serialized(), as: UTF8.self)), got \(String(decoding: answer.body.serialized(), as: UTF8.self).prefix(300))"
                    }
                }
            }
        }
        return nil
    }

    /// Applies changes on several targets at once (in order on each); returns the failures.
    func applyEverywhere(_ changes: [String: [TargetChange]], _ context: DeploymentContext) async -> [TargetFailure] {
        let service = spec.service
        return await withTaskGroup(of: TargetFailure?.self) { group in
            for (target, list) in changes {
                group.addTask {
                    for change in list {
                        do {
                            try await context.driver.apply(change, service: service, target: target, on: context.infrastructure)
                        } catch let error as DriverError {
                            return TargetFailure(target: target, error: DriverError("could not \(change): \(error.message)", isPermanent: error.isPermanent))
                        } catch {
                            return TargetFailure(target: target, error: DriverError("could not \(change): \(error)"))
                        }
                    }
                    return nil
                }
            }
            var failures: [TargetFailure] = []
            for await failure in group { if let failure { failures.append(failure) } }
            return failures.sorted { $0.target < $1.target }
        }
    }
}

/// A change that failed on one target.
struct TargetFailure: Sendable {
    let target: String
    let error: DriverError
}

/// How a test query's answer is checked against `expect`.
enum TestQueryMatch {
    /// `expect` matches when each of its members is found, recursively, in the answer's
    /// `result` or `response` (the public API's envelopes of predictions and functions) or else
    /// in the answer itself.
    static func matches(_ expect: JSONValue, _ answer: JSONValue) -> Bool {
        if let result = answer["result"], contains(result, expect) { return true }
        if let response = answer["response"], contains(response, expect) { return true }
        return contains(answer, expect)
    }

    static func contains(_ actual: JSONValue, _ expected: JSONValue) -> Bool {
        switch (actual, expected) {
        case (.object(let actualMembers), .object(let expectedMembers)):
            return expectedMembers.allSatisfy { name, value in actualMembers[name].map { contains($0, value) } ?? false }
        case (.string(let actualText), _) where expected.stringValue == nil:
            return actualText == String(decoding: expected.serialized(), as: UTF8.self)
        case (.int(let integer), .double(let number)), (.double(let number), .int(let integer)):
            return Double(integer) == number
        default:
            return actual == expected
        }
    }
}

/// Step names recorded in a rollout's results next to the hooks.
enum RolloutStep {
    static let phase = "rollout"
    static let stagedTests = "staged-test-queries"
    static let tuning = "endpoint-tuning"
    static let queryLogging = "query-logging"
    static let callerAuth = "caller-auth"
    static let activation = "activation"
    static let verification = "verification"
}
