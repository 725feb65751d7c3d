import CloudHTTP
import DeployerCore
import DeployerModel
import DeployerStores
import Foundation
import PlatformTesting
import ReconcileKit
import Testing

/// The leader-election lock over `coordination.k8s.io/v1` Leases, against a lease endpoint that
/// keeps resource versions as an API server does (a write with a stale version is a 409).
@Suite struct KubeLeaseLockTests {
    /// One Lease object with optimistic concurrency, as the API server keeps it.
    final class LeaseEndpoint: @unchecked Sendable {
        private let lock = NSLock()
        private var lease: JSONValue?
        private var version = 0
        private(set) var writes: [JSONValue] = []

        func handle(_ request: FakeRequest) -> FakeResponse {
            lock.withLock {
                let collection = "/apis/coordination.k8s.io/v1/namespaces/apideployer-system/leases"
                let conflict = FakeResponse.json(409, ["kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Conflict", "code": 409, "message": "conflict"])
                switch (request.method, request.path) {
                case ("GET", collection + "/apideployer-controller"):
                    return lease.map { .json(200, $0) } ?? .json(404, ["kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404])
                case ("POST", collection):
                    guard lease == nil, var body = request.json else { return conflict }
                    return store(&body)
                case ("PUT", collection + "/apideployer-controller"):
                    guard var body = request.json, body["metadata"]?["resourceVersion"]?.stringValue == String(version), lease != nil else { return conflict }
                    return store(&body)
                default:
                    return FakeResponse(status: 404)
                }
            }
        }

        private func store(_ body: inout JSONValue) -> FakeResponse {
            guard body["apiVersion"] == "coordination.k8s.io/v1", body["kind"] == "Lease" else { return FakeResponse(status: 400) }
            version += 1
            body["metadata"]?["resourceVersion"] = .string(String(version))
            lease = body
            writes.append(body)
            return .json(200, body)
        }
    }

    @Test func writesCarryTheVersionTheyReadAndALostRaceIsAConflict() async throws {
        let endpoint = LeaseEndpoint()
        try await FakeHTTPServer.with({ endpoint.handle($0) }) { url in
            let text = "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: \"\(url)\"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n"
            let kubeconfig = try #require(try JSONValue.parseYAMLDocuments(text).first).decode(Kubeconfig.self)
            let client = try KubeClient(kubeconfig: kubeconfig)
            let lock = KubeLeaseLock(client: client, namespace: "apideployer-system")
            #expect(try await lock.get() == nil)
            let acquired = Date(timeIntervalSince1970: 1_795_000_000.123456)
            let record = LeaseRecord(holderIdentity: "a_1", leaseDuration: .seconds(15), acquireTime: acquired, renewTime: acquired, leaseTransitions: 0)
            try await lock.create(record)
            await #expect(throws: LeaseConflict.self) { try await lock.create(record) }
            let (read, version) = try #require(try await lock.get())
            #expect(read.holderIdentity == "a_1" && read.leaseDuration == .seconds(15) && read.leaseTransitions == 0)
            #expect(abs(read.renewTime.timeIntervalSince(acquired)) < 0.000_001, "MicroTime keeps microseconds")

            var renewed = read
            renewed.renewTime = acquired.addingTimeInterval(2)
            try await lock.update(renewed, version: version)
            await #expect(throws: LeaseConflict.self, "a write with the version read before the renewal lost the race") {
                try await lock.update(LeaseRecord(holderIdentity: "b_2", leaseDuration: .seconds(15), acquireTime: acquired, renewTime: acquired, leaseTransitions: 1), version: version)
            }
            #expect(try await lock.get()?.record.holderIdentity == "a_1")
            #expect(endpoint.writes.last?["spec"]?["leaseDurationSeconds"] == 15)
            try await client.shutdown()
        }
    }
}
