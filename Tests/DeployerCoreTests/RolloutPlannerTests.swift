import DeployerCore
import DeployerModel
import Testing

/// The rollout planner decides from observations alone, so every phase is a table row.
@Suite struct RolloutPlannerTests {
    let packages = ["v1": PackageReference(sha256: "a", url: nil), "v2": PackageReference(sha256: "b", url: nil)]
    func desired(_ versions: [String: Int], strategy: ServiceDeployment.Generations.Strategy = .random, enabled: Bool = true) -> DesiredServing {
        DesiredServing(
            service: "churn", mapping: ServingMapping(strategy: strategy, entries: versions.map { .init(version: $0.key, weight: $0.value) }),
            enabled: enabled)
    }
    func serving(_ versions: [String: Int], available: Set<String>? = nil) -> ObservedService {
        ObservedService(
            enabled: true, generations: available ?? Set(versions.keys),
            mapping: ServingMapping(strategy: .random, entries: versions.map { .init(version: $0.key, weight: $0.value) }))
    }

    @Test func anUnreachableTargetHoldsEverythingBack() {
        let plan = RolloutPlanner.plan(
            desired(["v2": 100]), packages: packages,
            observations: [
                .init(name: "a", url: nil, reachable: false, service: nil), .init(name: "b", url: nil, reachable: true, service: nil),
            ])
        #expect(plan == .waitForTargets(["a"]))
    }

    @Test func missingVersionsAreStagedBeforeAnythingIsActivated() {
        let plan = RolloutPlanner.plan(
            desired(["v2": 100]), packages: packages,
            observations: [
                .init(name: "a", url: nil, reachable: true, service: serving(["v1": 100])),
                .init(name: "b", url: nil, reachable: true, service: nil),
            ])
        #expect(
            plan == .stage([
                "a": [.importGeneration(version: "v2", package: packages["v2"]!)],
                "b": [.createService, .importGeneration(version: "v2", package: packages["v2"]!)],
            ]))
    }

    @Test func onceStagedEveryTargetServingSomethingElseSwitches() {
        let plan = RolloutPlanner.plan(
            desired(["v1": 90, "v2": 10], strategy: .hash), packages: packages,
            observations: [
                .init(name: "a", url: nil, reachable: true, service: serving(["v1": 100], available: ["v1", "v2"])),
                .init(name: "b", url: nil, reachable: true, service: serving(["v1": 90, "v2": 10], available: ["v1", "v2"])),
            ])
        #expect(plan == .activate(["a", "b"]), "b has the weights but the Random strategy, not Hash")
    }

    @Test func convergedTargetsTidyGenerationsNothingUses() {
        let plan = RolloutPlanner.plan(
            desired(["v2": 100]), packages: packages,
            observations: [
                .init(name: "a", url: nil, reachable: true, service: serving(["v2": 100], available: ["v1", "v2"])),
                .init(name: "b", url: nil, reachable: true, service: serving(["v2": 100])),
            ])
        #expect(plan == .converged(cleanup: ["a": [.removeGeneration("v1")]]))
    }

    @Test func aDisabledDeploymentIsActivatedThenDisabled() {
        #expect(RolloutPlanner.activation(desired(["v1": 100], enabled: false)) == [.setMapping(desired(["v1": 100]).mapping), .setEnabled(false)])
        #expect(RolloutPlanner.restore(nil) == [.setEnabled(false)])
        #expect(RolloutPlanner.restore(serving(["v1": 100])) == [.setMapping(serving(["v1": 100]).mapping!)])
    }
}
