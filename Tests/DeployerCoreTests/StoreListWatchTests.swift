import DeployerCore
import DeployerModel
import DeployerTesting
import Foundation
import ReconcileKit
import Testing

/// An informer over the embedded store: every page listed, then every change watched, with an
/// index answering "the deployments of this service".
@Suite struct StoreListWatchTests {
    @Test func anInformerOverTheStoreSeesEveryObjectAndChange() async throws {
        let store = try await ObjectStore()
        for index in 0..<620 {
            _ = try await store.create(SampleObjects.deployment("d\(index)", labels: ["team": index < 10 ? "red" : "blue"]), kind: .serviceDeployment, dryRun: false)
        }
        let informer = Informer(
            source: StoreListWatch(store: store, kind: .serviceDeployment), clock: ContinuousClock(),
            indexers: ["team": { object in object.labels["team"].map { [$0] } ?? [] }])
        let seen = Counter()
        informer.onChange { _ in seen.increment() }
        let running = Task { try await informer.run() }
        await informer.waitUntilSynced()
        #expect(informer.list().count == 620, "all pages of 500 were listed")
        #expect(informer.objects(index: "team", value: "red").count == 10)

        _ = try await store.update(SampleObjects.deployment("d0", version: "v2", labels: ["team": "blue"]), kind: .serviceDeployment)
        _ = try await store.delete(ObjectKey(.serviceDeployment, namespace: "default", name: "d1"), preconditions: DeletePreconditions(), dryRun: false)
        for _ in 0..<1_000_000 where seen.value < 622 { await Task.yield() }
        #expect(informer.object("default/d0")?.document["spec"]?["version"] == "v2")
        #expect(informer.object("default/d1") == nil)
        #expect(informer.objects(index: "team", value: "red").count == 8, "d0 moved to blue, d1 is gone")
        running.cancel()
        _ = try? await running.value
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
