@testable import DeployerCore
import DeployerModel
import DeployerTesting
import Foundation
import Logging
import ReconcileKit
import Testing

/// A namespace with a platform infrastructure, its credentials secret and the published service
/// `churn` (v1, v2, v3), reconciled by the real deployment and infrastructure reconcilers over
/// the embedded store and one platform driver. Every status written and every error thrown is
/// kept in `transcript`, which the tests search for credentials.
final class PlatformWorld: @unchecked Sendable {
    struct NoWebhooks: WebhookSender {
        func deliver(url: String, body: [UInt8], signingKey: String?, timeout: Duration) async throws -> Int { 200 }
    }

    let store: ObjectStore
    let driver: any InfrastructureDriver
    let type: String
    let audit = RecordingAuditTrail()
    let key = ObjectKey(.serviceDeployment, namespace: "default", name: "churn-prod")
    /// The deployment spec of a 90/10 random split between v1 and v2.
    static let split: JSONValue = ["generations": ["strategy": "Random", "entries": [["version": "v1", "weight": 90], ["version": "v2", "weight": 10]]]]

    private let lock = NSLock()
    private var lines: [String] = []

    /// `block` is the infrastructure's typed block; `credentials` the secret's data.
    init(type: String, block: JSONValue, credentials: [String: String], driver: any InfrastructureDriver) async throws {
        self.type = type
        self.driver = driver
        store = try await ObjectStore()
        let packages = ["v1": "a", "v2": "b", "v3": "c"].sorted { $0.key < $1.key }
        let objects: [(ResourceKind, JSONValue)] = [
            (.secret, ["metadata": ["name": "platform-credentials"], "stringData": .object(credentials.mapValues { .string($0) })]),
            (.infrastructure, ["metadata": ["name": "prod-platform"], "spec": ["stage": "production", "type": .string(type), .init(type): block, "resyncPeriod": "1m"]]),
            (
                .publishedService,
                [
                    "metadata": ["name": "churn"],
                    "spec": [
                        "versions": .array(packages.map { version, digit in
                            ["version": .string(version), "package": ["sha256": .string(String(repeating: digit, count: 64)), "url": .string("https://packages.example.com/churn/\(version).zip")]]
                        })
                    ],
                ]
            ),
        ]
        try await SampleObjects.create(objects, in: store)
    }

    var transcript: String { lock.withLock { lines.joined(separator: "\n") } + "\n" + audit.events.map { String(decoding: $0.serialized(), as: UTF8.self) }.joined(separator: "\n") }

    fileprivate func note(_ line: String) { lock.withLock { lines.append(line) } }

    func reconciler() -> DeploymentReconciler<ContinuousClock> {
        DeploymentReconciler(
            store: store, drivers: [type: driver], hooks: HookRunner(limiter: HookLimiter(clock: ContinuousClock()), webhooks: NoWebhooks()),
            logger: Logger(label: "platform-test") { _ in RecordingLogHandler(world: self) }, audit: audit, owners: { _, _, _ in [] })
    }

    /// Applies the deployment with `spec` merged over service churn on prod-platform.
    func deploy(_ spec: JSONValue) async throws {
        var document = SampleObjects.deployment("churn-prod")
        var full: JSONValue = ["service": "churn", "infrastructure": "prod-platform"]
        for (name, value) in spec.objectValue ?? [:] { full[name] = value }
        document["spec"] = full
        try await SampleObjects.createOrReplace(document, kind: .serviceDeployment, in: store)
    }

    /// One reconcile, as the controller's queue runs it; a thrown error is noted and returned.
    @discardableResult
    func reconcile() async -> (result: ReconcileResult?, error: (any Error)?) {
        do {
            let result = try await reconciler().reconcile("default/churn-prod", attempt: ReconcileAttempt(reconcileID: "test", retries: 0))
            await noteStatus()
            return (result, nil)
        } catch {
            note("error: \(error)")
            await noteStatus()
            return (nil, error)
        }
    }

    /// Reconciles (as retries would) until the deployment is Ready or Stalled at its generation,
    /// at most `limit` times; returns the number of reconciles.
    @discardableResult
    func settle(limit: Int = 40) async throws -> Int {
        for round in 1...limit {
            let (result, error) = await reconcile()
            if error is TerminalError || result == .done { return round }
            if result != nil, try await condition("Ready")?.status == .true { return round }
        }
        Issue.record("did not settle in \(limit) reconciles; last: \(lock.withLock { lines.suffix(2).joined(separator: "\n") })")
        return limit
    }

    /// Deletes the deployment and reconciles until it is gone (at most `limit` times).
    func deleteAndSettle(limit: Int = 40) async throws {
        _ = try await store.delete(key, preconditions: DeletePreconditions(), dryRun: false)
        for _ in 1...limit {
            await reconcile()
            if (try? await store.get(key)) == nil { return }
        }
        Issue.record("the deployment was not removed in \(limit) reconciles")
    }

    /// Probes the infrastructure once and returns its Ready condition.
    func probeInfrastructure() async throws -> Condition? {
        let reconciler = InfrastructureReconciler(store: store, drivers: [type: driver])
        _ = try await reconciler.reconcile("default/prod-platform", attempt: ReconcileAttempt(reconcileID: "probe", retries: 0))
        let infrastructure = try await store.decoded(Infrastructure.self, at: ObjectKey(.infrastructure, namespace: "default", name: "prod-platform"))
        note("infrastructure: \(String(describing: infrastructure?.status))")
        return infrastructure?.status?.conditions?[type: Condition.Kind.ready]
    }

    /// The infrastructure with its secrets, as the reconcilers give it to the driver.
    func resolvedInfrastructure() async throws -> ResolvedInfrastructure {
        let infrastructure = try #require(try await store.decoded(Infrastructure.self, at: ObjectKey(.infrastructure, namespace: "default", name: "prod-platform")))
        return try await DeploymentContext.resolveSecrets(infrastructure, namespace: "default", store: store)
    }

    func status() async throws -> ServiceDeployment.Status? { try await store.get(key).document.decode(ServiceDeployment.self).status }
    func condition(_ type: String) async throws -> Condition? { try await status()?.conditions?[type: type] }

    private func noteStatus() async {
        if let document = try? await store.get(key).document { note(String(decoding: (document["status"] ?? .null).serialized(), as: UTF8.self)) }
    }

    /// Fails the test if any of `secrets` appears, raw or base64, in the transcript.
    func expectNoneOf(_ secrets: [String], _ comment: Comment? = nil) {
        let text = transcript
        #expect(text.count > 1_000, "the transcript holds the run's statuses and errors")
        for secret in secrets where !secret.isEmpty {
            #expect(!text.contains(secret), comment)
            #expect(!text.contains(Data(secret.utf8).base64EncodedString()), comment)
        }
    }
}

/// Any sha256 gives the same small archive: the platform fakes store what they are sent.
struct TestPackages: PackageSource {
    func archive(for reference: PackageReference) async throws -> URL {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("package-\(reference.sha256.prefix(8)).zip")
        if !FileManager.default.fileExists(atPath: file.path) { try Data("PK package \(reference.sha256)".utf8).write(to: file) }
        return file
    }
}

/// Keeps every log line of the reconcilers (with its metadata) in the world's transcript.
struct RecordingLogHandler: LogHandler {
    let world: PlatformWorld
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        world.note("log \(event.level): \(event.message) \(metadata.merging(event.metadata ?? [:]) { $1 })")
    }
}

/// Records the pauses a client took instead of sleeping.
final class PauseLog: @unchecked Sendable {
    private let lock = NSLock()
    private var pauses: [Duration] = []
    func record(_ pause: Duration) { lock.withLock { pauses.append(pause) } }
    var count: Int { lock.withLock { pauses.count } }
    /// How many pauses lasted exactly `duration` (a server's `Retry-After`).
    func count(of duration: Duration) -> Int { lock.withLock { pauses.filter { $0 == duration }.count } }
}
