import DeployerCore
import DeployerModel
import DeployerTesting
import Foundation
import Logging
import ReconcileKit
import Testing

/// The deployment reconciler over the embedded store and a fake driver: each rollout rule
/// checked without sockets.
@Suite struct DeploymentReconcilerTests {
    struct NoWebhooks: WebhookSender {
        func deliver(url: String, body: [UInt8], signingKey: String?, timeout: Duration) async throws -> Int { 200 }
    }

    let store: ObjectStore
    let driver = FakeDriver(targets: ["a", "b"])
    let audit = RecordingAuditTrail()
    let key = ObjectKey(.serviceDeployment, namespace: "default", name: "churn-dev")

    init() async throws {
        store = try await ObjectStore()
        let objects: [(ResourceKind, JSONValue)] = [
            (.secret, ["metadata": ["name": "keys"], "stringData": ["a": "key-a", "b": "key-b"]]),
            (
                .infrastructure,
                [
                    "metadata": ["name": "dev-static"],
                    "spec": [
                        "stage": "development", "type": "static",
                        "static": [
                            "nodes": [
                                ["name": "a", "url": "http://127.0.0.1:1", "adminKeySecretRef": ["name": "keys", "key": "a"]],
                                ["name": "b", "url": "http://127.0.0.1:2", "adminKeySecretRef": ["name": "keys", "key": "b"]],
                            ]
                        ],
                    ],
                ]
            ),
            (
                .publishedService,
                [
                    "metadata": ["name": "churn"],
                    "spec": [
                        "versions": [
                            ["version": "v1", "package": ["sha256": .string(String(repeating: "a", count: 64))]],
                            ["version": "v2", "package": ["sha256": .string(String(repeating: "b", count: 64))]],
                        ]
                    ],
                ]
            ),
        ]
        try await SampleObjects.create(objects, in: store)
    }

    func reconciler() -> DeploymentReconciler<ContinuousClock> {
        DeploymentReconciler(
            store: store, drivers: ["static": driver],
            hooks: HookRunner(limiter: HookLimiter(clock: ContinuousClock()), webhooks: NoWebhooks()),
            logger: Logger(label: "test"), audit: audit, owners: { _, _, _ in [] })
    }

    /// Applies the deployment with `spec` (created, or replaced at the current version).
    func deploy(_ spec: JSONValue, annotations: [String: String] = [:]) async throws {
        var document = SampleObjects.deployment("churn-dev")
        var full = document["spec"] ?? [:]
        for (name, value) in spec.objectValue ?? [:] { full[name] = value }
        document["spec"] = full
        if !annotations.isEmpty { document["metadata"]?["annotations"] = .object(annotations.mapValues { .string($0) }) }
        try await SampleObjects.createOrReplace(document, kind: .serviceDeployment, in: store)
    }

    func reconcile() async throws -> ReconcileResult {
        try await reconciler().reconcile("default/churn-dev", attempt: ReconcileAttempt(reconcileID: "test", retries: 0))
    }

    func status() async throws -> ServiceDeployment.Status? { try await store.get(key).document.decode(ServiceDeployment.self).status }

    func condition(_ type: String) async throws -> Condition? { try await status()?.conditions?[type: type] }

    func mapping(_ target: String) -> [String] { driver.state(of: target)?.mapping?.versions ?? [] }

    @Test func aFirstRolloutMakesEveryTargetServeTheVersionAndSaysReady() async throws {
        try await deploy(["version": "v1"])
        let result = try await reconcile()
        #expect(result == .requeue(after: .seconds(300)), "checked again after the infrastructure's resync period")
        #expect(mapping("a") == ["v1"] && mapping("b") == ["v1"])
        #expect(try await condition("Ready")?.status == .true)
        #expect(try await status()?.observedGeneration == 1)
        #expect(try await status()?.history?.last?.outcome == "Succeeded")
        #expect(try await store.get(key).document["metadata"]?["finalizers"] == ["apideployer.dev/finalizer"])
    }

    @Test func rolloutTransitionsGoToTheAuditTrailOnceSaved() async throws {
        try await deploy(["version": "v1"])
        _ = try await reconcile()
        driver.fail("a", with: DriverError("refused", isPermanent: true), when: { if case .importGeneration = $0 { true } else { false } })
        try await deploy(["version": "v2"])
        _ = try? await reconcile()
        let transitions = audit.events.map { "\($0["transition"]?.stringValue ?? "")#\($0["rolloutId"]?.intValue ?? 0)" }
        #expect(transitions == ["RolloutStarted#1", "RolloutSucceeded#1", "RolloutStarted#2", "RolloutFailed#2"])
        let failed = audit.events[3]
        #expect(failed["deployment"] == "churn-dev" && failed["from"] == ["v1"] && failed["to"] == ["v2"] && failed["generation"] == 2)
        #expect(failed["reason"] == "ImportFailed" && failed["msgType"] == "rollout")
    }

    /// Sets the infrastructure's `logging` block (nil removes it).
    func setLogging(_ logging: JSONValue?) async throws {
        let infrastructureKey = ObjectKey(.infrastructure, namespace: "default", name: "dev-static")
        var document = try await store.get(infrastructureKey).document
        document["spec"]?["logging"] = logging
        _ = try await store.update(document, kind: .infrastructure)
    }

    @Test func eachRolloutSetsWhereTheTargetsSendQueryEventsWithTheDeploymentsNameAsRoutingKey() async throws {
        _ = try await store.create(
            ["apiVersion": .string(ResourceKind.apiVersion), "kind": "Secret", "metadata": ["name": "events", "namespace": "default"],
             "stringData": ["key": "event-key-1"]], kind: .secret, dryRun: false)
        try await setLogging([
            "eventServer": ["url": "http://127.0.0.1:14000", "authKeySecretRef": ["name": "events", "key": "key"]], "routingKey": "FromDeploymentName",
            "logQueries": true,
        ])
        try await deploy(["version": "v1"])
        _ = try await reconcile()
        let expected = QueryLoggingSettings(eventServer: "http://127.0.0.1:14000", authKey: "event-key-1", routingKey: "churn-dev", logQueries: true)
        let settings = driver.appliedChanges.compactMap { if case .setQueryLogging(let settings) = $0.change { settings } else { nil } }
        #expect(settings == [expected, expected], "once per target")
        #expect(!"\(TargetChange.setQueryLogging(expected))".contains("event-key-1"), "the key is never printed")
        #expect(try await status()?.history?.last?.hooks?.contains { $0.name == "query-logging" && $0.result == "Succeeded" } == true)

        try await setLogging(nil)
        try await deploy(["version": "v2"])
        _ = try await reconcile()
        let removals = driver.appliedChanges.filter { $0.change == .setQueryLogging(nil) }.map(\.target).sorted()
        #expect(removals == ["a", "b"], "settings a target still has are removed once the infrastructure logs nowhere")
        #expect(driver.state(of: "a")?.logsQueriesElsewhere == false)
    }

    @Test func aTargetThatCannotSwitchSwitchesTheOthersBack() async throws {
        try await deploy(["version": "v1"])
        _ = try await reconcile()
        driver.fail("b", with: DriverError("HTTP 503"), when: { if case .setMapping = $0 { true } else { false } })
        try await deploy(["version": "v2"])
        await #expect(throws: DriverError.self) { try await reconcile() }
        #expect(mapping("a") == ["v1"], "a was switched to v2, then back")
        #expect(mapping("b") == ["v1"])
        #expect(try await condition("Reconciling")?.reason == "ActivationFailed")
        driver.clearFailures()
        _ = try await reconcile()
        #expect(mapping("a") == ["v2"] && mapping("b") == ["v2"])
        #expect(try await condition("Ready")?.status == .true)
    }

    @Test func aHookThatRanIsNotRunAgainAfterARestart() async throws {
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("hook-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: marker) }
        let hooks: JSONValue = ["preDeploy": [["name": "count", "exec": ["command": ["/bin/sh", "-c", .string("echo ran >> \(marker.path)")]]]]]
        driver.fail("a", with: DriverError("connection reset"), when: { if case .importGeneration = $0 { true } else { false } })
        try await deploy(["version": "v1", "hooks": hooks])
        await #expect(throws: DriverError.self) { try await reconcile() }
        driver.clearFailures()
        // A fresh reconciler, as after a controller restart: the recorded hook result counts.
        _ = try await reconcile()
        #expect(try String(contentsOf: marker, encoding: .utf8) == "ran\n")
        #expect(try await condition("Ready")?.status == .true)
        #expect(try await status()?.history?.last?.hooks?.first { $0.name == "count" }?.result == "Succeeded")
    }

    @Test func aStalledRolloutWaitsForANewGenerationOrTheRetryAnnotation() async throws {
        try await deploy(["version": "v1"])
        _ = try await reconcile()
        driver.answer(QueryAnswer(status: 200, body: ["result": ["prediction": "0"]]), forVersion: "v2")
        let queries: JSONValue = [["endpoint": "predict-churn", "query": ["features": [:]], "expect": ["prediction": "1"]]]
        try await deploy(["version": "v2", "testQueries": queries])
        await #expect(throws: TerminalError.self) { try await reconcile() }
        #expect(try await condition("Stalled")?.reason == "TestQueryFailed")
        #expect(mapping("a") == ["v1"] && driver.state(of: "a")?.generations == ["v1"], "v2 was staged, tested, refused and removed")
        let changes = driver.appliedChanges.count
        #expect(try await reconcile() == .done)
        #expect(driver.appliedChanges.count == changes, "not retried in a loop")

        driver.answer(QueryAnswer(status: 200, body: ["result": ["prediction": "1"]]), forVersion: "v2")
        try await deploy(["version": "v2", "testQueries": queries], annotations: ["apideployer.dev/retry": "1"])
        _ = try await reconcile()
        #expect(mapping("a") == ["v2"])
        #expect(try await status()?.history?.last?.trigger == "Retry")
    }

    @Test func losingATargetIsDegradedAndDriftIsCorrected() async throws {
        try await deploy(["version": "v1"])
        _ = try await reconcile()
        driver.setReachable(false, "b")
        await #expect(throws: DriverError.self) { try await reconcile() }
        #expect(try await condition("Degraded")?.status == .true)
        #expect(try await condition("Ready")?.status == .false)
        driver.setReachable(true, "b")
        driver.setState(ObservedService(enabled: false, generations: ["v1"], mapping: driver.state(of: "b")?.mapping), of: "b")
        _ = try await reconcile()
        #expect(driver.state(of: "b")?.enabled == true)
        #expect(try await status()?.history?.last?.trigger == "Drift")
        #expect(try await condition("Ready")?.status == .true)
        #expect(try await condition("Degraded")?.status == .false)
    }

    @Test func deletionRemovesTheServiceFromEveryTargetThenTheFinalizer() async throws {
        try await deploy(["version": "v1"])
        _ = try await reconcile()
        _ = try await store.delete(key, preconditions: DeletePreconditions(), dryRun: false)
        #expect(try await reconcile() == .done)
        #expect(driver.state(of: "a") == nil && driver.state(of: "b") == nil)
        await #expect(throws: APIError.self) { try await store.get(key) }
    }
}
