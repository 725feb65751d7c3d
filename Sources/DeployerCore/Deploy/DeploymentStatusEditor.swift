import DeployerModel

/// Where a deployment stands, as the four conditions say it.
enum DeploymentState: Equatable {
    /// Working toward the current generation; `reason` and `message` say which step.
    case progressing(reason: String, message: String)
    /// Every target serves the desired generations and the checks passed.
    case ready(message: String)
    /// Cannot progress without a spec change or a retry.
    case stalled(reason: String, message: String)
    /// Was serving, lost some targets; the controller keeps trying.
    case degraded(reason: String, message: String)
}

/// Edits a deployment's status: conditions, targets and the bounded rollout history.
struct DeploymentStatusEditor {
    static let historyLimit = 20

    var status: ServiceDeployment.Status
    let generation: Int64
    let now: String

    init(_ status: ServiceDeployment.Status?, generation: Int64, now: String) {
        self.status =
            status ?? ServiceDeployment.Status(observedGeneration: nil, conditions: nil, activeGenerations: nil, targets: nil, history: nil)
        self.generation = generation
        self.now = now
    }

    /// The rollout record for this generation and retry value, if one was started.
    func rollout(retry: String?) -> ServiceDeployment.HistoryEntry? {
        guard let last = status.history?.last, last.generation == generation, last.retry == retry else { return nil }
        return last
    }

    /// The latest rollout record.
    var lastRollout: ServiceDeployment.HistoryEntry? { status.history?.last }

    mutating func set(_ state: DeploymentState) {
        status.observedGeneration = generation
        var conditions = status.conditions ?? []
        let (generation, now) = (self.generation, self.now)
        func condition(_ type: String, _ value: Bool, _ reason: String, _ message: String = "") {
            conditions.set(type, value, reason: reason, message: message, generation: generation, at: now)
        }
        switch state {
        case .progressing(let reason, let message):
            condition(Condition.Kind.ready, false, reason, message)
            condition(Condition.Kind.reconciling, true, reason, message)
            condition(Condition.Kind.stalled, false, "Progressing")
        case .ready(let message):
            condition(Condition.Kind.ready, true, "RolloutComplete", message)
            condition(Condition.Kind.reconciling, false, "Idle")
            condition(Condition.Kind.stalled, false, "Idle")
            condition(Condition.Kind.degraded, false, "Idle")
        case .stalled(let reason, let message):
            condition(Condition.Kind.ready, false, reason, message)
            condition(Condition.Kind.reconciling, false, reason)
            condition(Condition.Kind.stalled, true, reason, message)
        case .degraded(let reason, let message):
            condition(Condition.Kind.ready, false, reason, message)
            condition(Condition.Kind.reconciling, true, reason, message)
            condition(Condition.Kind.degraded, true, reason, message)
        }
        status.conditions = conditions
    }

    /// Whether the deployment was Ready at this generation (so that losing targets is Degraded).
    var wasReady: Bool {
        guard let ready = status.conditions?[type: Condition.Kind.ready] else { return false }
        return ready.status == .true
    }

    /// Starts a rollout record.
    mutating func begin(trigger: String, retry: String?, requester: String?, to: [String]) {
        let id = (status.history?.last?.id ?? 0) + 1
        let from = (status.activeGenerations ?? []).map(\.version)
        var history = status.history ?? []
        history.append(
            .init(
                id: id, generation: generation, trigger: trigger, retry: retry, requester: requester, from: from, to: to, start: now,
                outcome: Outcome.inProgress))
        status.history = Array(history.suffix(Self.historyLimit))
    }

    /// Whether the current rollout already has a result for this step.
    func hasResult(name: String, phase: String) -> Bool {
        lastRollout?.hooks?.contains { $0.name == name && $0.phase == phase } ?? false
    }

    /// Records a hook or step result in the current rollout.
    mutating func record(name: String, phase: String, outcome: HookOutcome) {
        editLast { entry in
            let result: ServiceDeployment.HistoryEntry.HookResult
            switch outcome {
            case .succeeded(let message): result = .init(name: name, phase: phase, result: "Succeeded", message: message)
            case .failed(let message): result = .init(name: name, phase: phase, result: "Failed", message: message)
            }
            entry.hooks = (entry.hooks ?? []) + [result]
        }
    }

    /// Adds a short log line to the current rollout (the last 20 are kept).
    mutating func log(_ line: String) {
        editLast { entry in entry.log = Array(((entry.log ?? []) + [line]).suffix(20)) }
    }

    /// Ends the current rollout.
    mutating func finish(_ outcome: String) {
        let end = now
        editLast { entry in
            entry.outcome = outcome
            entry.end = end
        }
    }

    private mutating func editLast(_ edit: (inout ServiceDeployment.HistoryEntry) -> Void) {
        guard var history = status.history, !history.isEmpty else { return }
        edit(&history[history.count - 1])
        status.history = history
    }

    /// Rollout outcomes.
    enum Outcome {
        static let inProgress = "InProgress"
        static let succeeded = "Succeeded"
        static let failed = "Failed"
    }
}
