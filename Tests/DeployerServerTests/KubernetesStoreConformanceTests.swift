import CloudHTTP
import DeployerCore
import DeployerModel
import DeployerServer
import DeployerStores
import DeployerTesting
import Foundation
import Logging
import ReconcileKit
import ServiceLifecycle
import Testing

/// The custom-resource store (`KubernetesResourceStore`) passes the same conformance suite as
/// the embedded stores, over HTTP against a Kubernetes-shaped API server on a loopback socket.
@Suite struct KubernetesStoreConformanceTests {
    @Test(arguments: StoreConformance.all)
    func conformance(check: StoreConformance.Check) async throws {
        try await Self.withServer { store, _, _ in try await check.run(store) }
    }

    @Test func aWatchContinuesAcrossRequestsTheServerEnds() async throws {
        try await Self.withServer { store, backing, _ in
            let start = try await store.create(SampleObjects.deployment("a"), kind: .serviceDeployment, dryRun: false).resourceVersion
            var events = try await store.watch(.serviceDeployment, ListQuery(), from: .after(start), bookmarks: false).makeAsyncIterator()
            _ = try await store.create(SampleObjects.deployment("b"), kind: .serviceDeployment, dryRun: false)
            guard case .event(let first)? = await events.next() else {
                Issue.record("no event for b")
                return
            }
            #expect(first.type == .added && first.object.key.name == "b")
            await backing.finishWatches()
            _ = try await store.create(SampleObjects.deployment("c"), kind: .serviceDeployment, dryRun: false)
            guard case .event(let second)? = await events.next() else {
                Issue.record("no event for c")
                return
            }
            #expect(second.type == .added && second.object.key.name == "c", "resumed from b's version: nothing lost, nothing twice")
        }
    }

    /// client-go-style leader election over the server's `coordination.k8s.io/v1` Leases (kept
    /// as our Lease objects): writes carry the version read; a stale one loses.
    @Test func coordinationLeasesLockLeadershipOverTheServer() async throws {
        try await Self.withServer { _, backing, client in
            let lock = KubeLeaseLock(client: client, namespace: "default")
            #expect(try await lock.get() == nil)
            let now = Date(timeIntervalSince1970: 1_795_000_000.5)
            let record = LeaseRecord(holderIdentity: "a_1", leaseDuration: .seconds(15), acquireTime: now, renewTime: now, leaseTransitions: 0)
            try await lock.create(record)
            await #expect(throws: LeaseConflict.self) { try await lock.create(record) }
            let (read, version) = try #require(try await lock.get())
            #expect(read == record)
            var renewed = read
            renewed.renewTime = now.addingTimeInterval(2)
            try await lock.update(renewed, version: version)
            await #expect(throws: LeaseConflict.self) { try await lock.update(record, version: version) }
            let stored = try await backing.get(ObjectKey(.lease, namespace: "default", name: Lease.controllerName))
            #expect(stored.document["spec"]?["holderIdentity"] == "a_1", "the same object as our Lease kind")
            let listed = try await client.send(.GET, "/apis/coordination.k8s.io/v1/namespaces/default/leases").json()
            #expect(listed["kind"] == "LeaseList" && listed["items"]?.arrayValue?.first?["apiVersion"] == "coordination.k8s.io/v1")
        }
    }

    /// Runs `body` with a store that reaches a fresh in-memory API server through its socket.
    static func withServer(_ body: (KubernetesResourceStore, ObjectStore, KubeClient) async throws -> Void) async throws {
        let backing = try await ObjectStore()
        let identities = try IdentityStore(path: nil)
        let token = try #require(try identities.bootstrap())
        let api = KubeAPI(store: backing, authenticator: RequestAuthenticator(identities: identities))
        let (addresses, announce) = AsyncStream<String>.makeStream()
        let server = try makeAPIServer(api: api, settings: APIServerSettings(host: "127.0.0.1", port: 0, tls: nil), logger: Logger(label: "test")) {
            announce.yield($0)
        }
        let group = ServiceGroup(services: [server, WatchCloser(store: backing)], logger: Logger(label: "test"))
        let running = Task { try await group.run() }
        var iterator = addresses.makeAsyncIterator()
        let url = try #require(await iterator.next())
        let client = try KubeClient(kubeconfig: Kubeconfig(name: "test", server: url, certificateAuthorityData: nil, token: token))
        var failure: (any Error)?
        do {
            try await body(KubernetesResourceStore(client: client), backing, client)
        } catch {
            failure = error
        }
        try await client.shutdown()
        await group.triggerGracefulShutdown()
        try await running.value
        try await backing.close()
        if let failure { throw failure }
    }
}
