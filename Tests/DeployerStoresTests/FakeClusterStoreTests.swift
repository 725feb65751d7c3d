import CloudHTTP
import DeployerCore
import DeployerModel
import DeployerStores
import DeployerTesting
import Foundation
import PlatformTesting
import Testing

/// The custom-resource store passes the store conformance suite against the fake Kubernetes API
/// server with the generated CRDs installed (a cluster's semantics, not our server's), and a
/// watch from a version the history no longer holds ends as expired (the informer relists).
@Suite struct FakeClusterStoreTests {
    static let crds = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("manifests/crds")

    @Test(arguments: StoreConformance.all)
    func conformance(check: StoreConformance.Check) async throws {
        try await Self.withCluster { store, _, _ in try await check.run(store) }
    }

    @Test func aWatchFromAVersionTheHistoryNoLongerHoldsEndsAsExpired() async throws {
        try await Self.withCluster { store, cluster, _ in
            let start = try await store.create(SampleObjects.deployment("a"), kind: .serviceDeployment, dryRun: false).resourceVersion
            _ = try await store.create(SampleObjects.deployment("b"), kind: .serviceDeployment, dryRun: false)
            await cluster.expireWatchHistory()
            var events = try await store.watch(.serviceDeployment, ListQuery(), from: .after(start), bookmarks: false).makeAsyncIterator()
            guard case .expired(let error)? = await events.next() else {
                Issue.record("a watch from an expired version must end as expired")
                return
            }
            #expect(error.code == 410 && error.message.hasPrefix("too old resource version: \(start)"))
        }
    }

    /// Runs `body` with a store on a fresh fake cluster that has our CRDs.
    static func withCluster(_ body: (KubernetesResourceStore, FakeKubeCluster, KubeClient) async throws -> Void) async throws {
        let cluster = FakeKubeCluster()
        try await FakeKubeAPIServer.with(cluster) { url in
            let client = try KubeClient(kubeconfig: Kubeconfig(name: "fake", server: url, certificateAuthorityData: nil, token: "unchecked"))
            var failure: (any Error)?
            do {
                for file in try FileManager.default.contentsOfDirectory(atPath: crds.path).sorted() {
                    let crd = try #require(try JSONValue.parseYAMLDocuments(String(contentsOf: crds.appendingPathComponent(file), encoding: .utf8)).first)
                    let created = try await client.send(.POST, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", body: crd.serialized())
                    try #require(created.status == 201, "\(file): \(String(decoding: created.body, as: UTF8.self))")
                }
                try await body(KubernetesResourceStore(client: client), cluster, client)
            } catch {
                failure = error
            }
            try await client.shutdown()
            if let failure { throw failure }
        }
    }
}
