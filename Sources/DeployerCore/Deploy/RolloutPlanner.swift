import DeployerModel

/// The next phase of bringing every target to a desired mapping, decided from observations
/// alone (no I/O), so that a restarted controller picks up exactly where the targets are.
///
/// Phases, in order: every target must answer; then every desired version is made available
/// on every target (staged, not active); then the targets that serve anything else switch;
/// once all serve the desired mapping, generations nothing uses are removed.
public enum RolloutPlan: Equatable, Sendable {
    /// These targets did not answer; nothing can safely change.
    case waitForTargets([String])
    /// Changes per target that make the desired versions available without activating them.
    case stage([String: [TargetChange]])
    /// Every desired version is available everywhere; these targets still serve something else.
    case activate([String])
    /// Every target serves the desired mapping; these removals tidy what nothing uses.
    case converged(cleanup: [String: [TargetChange]])
}

public enum RolloutPlanner {
    /// Plans the next phase toward `desired`, with the package of each desired version.
    public static func plan(
        _ desired: DesiredServing, packages: [String: PackageReference], observations: [TargetObservation]
    ) -> RolloutPlan {
        let unreachable = observations.filter { !$0.reachable }.map(\.name)
        if !unreachable.isEmpty { return .waitForTargets(unreachable) }
        var staging: [String: [TargetChange]] = [:]
        for target in observations {
            var changes: [TargetChange] = []
            if target.service == nil { changes.append(.createService) }
            let available = target.service?.generations ?? []
            for version in desired.mapping.versions where !available.contains(version) {
                if let package = packages[version] { changes.append(.importGeneration(version: version, package: package)) }
            }
            if !changes.isEmpty { staging[target.name] = changes }
        }
        if !staging.isEmpty { return .stage(staging) }
        let switching = observations.filter { !$0.serves(desired) }.map(\.name)
        if !switching.isEmpty { return .activate(switching) }
        return .converged(cleanup: unusedGenerations(keeping: desired.mapping.versions, observations))
    }

    /// Removals of generations a target holds that are neither in `kept` nor mapped.
    public static func unusedGenerations(keeping kept: [String], _ observations: [TargetObservation]) -> [String: [TargetChange]] {
        var removals: [String: [TargetChange]] = [:]
        for target in observations {
            guard let service = target.service else { continue }
            let kept = Set(kept).union(service.mapping?.versions ?? [])
            let unused = service.generations.subtracting(kept).sorted()
            if !unused.isEmpty { removals[target.name] = unused.map { .removeGeneration($0) } }
        }
        return removals
    }

    /// The changes that put one target back on `previous` (nil: the target served nothing).
    public static func restore(_ previous: ObservedService?) -> [TargetChange] {
        guard let previous else { return [.setEnabled(false)] }
        var changes: [TargetChange] = []
        if let mapping = previous.mapping { changes.append(.setMapping(mapping)) }
        if !previous.enabled || previous.mapping == nil { changes.append(.setEnabled(previous.enabled)) }
        return changes
    }

    /// The changes that make one target serve `desired`.
    public static func activation(_ desired: DesiredServing) -> [TargetChange] {
        desired.enabled ? [.setMapping(desired.mapping)] : [.setMapping(desired.mapping), .setEnabled(false)]
    }
}
