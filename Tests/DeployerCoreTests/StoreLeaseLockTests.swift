import DeployerCore
import DeployerModel
import DeployerTesting
import Foundation
import ReconcileKit
import Testing

@Suite struct StoreLeaseLockTests {
    let key = ObjectKey(.lease, namespace: Lease.controllerNamespace, name: Lease.controllerName)

    func record(_ holder: String, renewedAt seconds: Double) -> LeaseRecord {
        LeaseRecord(
            holderIdentity: holder, leaseDuration: .seconds(15), acquireTime: Date(timeIntervalSince1970: 1_700_000_000),
            renewTime: Date(timeIntervalSince1970: seconds), leaseTransitions: 2)
    }

    @Test func writesAreOptimisticAndTheLeaseReadsBackAsWritten() async throws {
        let store = try await ObjectStore()
        let lock = StoreLeaseLock(store: store)
        #expect(try await lock.get() == nil)
        let created = record("a", renewedAt: 1_700_000_000.5)
        try await lock.create(created)
        await #expect(throws: LeaseConflict.self) { try await lock.create(created) }
        let (read, version) = try #require(try await lock.get())
        #expect(read == created)

        let renewed = record("a", renewedAt: 1_700_000_002.25)
        try await lock.update(renewed, version: version)
        await #expect(throws: LeaseConflict.self, "a stale version loses") { try await lock.update(created, version: version) }
        #expect(try await lock.get()?.record == renewed)
        let spec = try await store.get(key).document["spec"]
        #expect(spec?["renewTime"] == "2023-11-14T22:13:22.250000Z", "MicroTime, as Kubernetes writes it")
        #expect(spec?["holderIdentity"] == "a" && spec?["leaseDurationSeconds"] == 15 && spec?["leaseTransitions"] == 2)
    }

    @Test func aLeaseLeftByADeadProcessIsReleasedAndTheNextLeadsWithoutWaiting() async throws {
        let store = try await ObjectStore()
        let lock = StoreLeaseLock(store: store)
        try await lock.create(record("old-process", renewedAt: 1_700_000_000))
        try await lock.release(heldBy: nil)
        #expect(try await lock.get()?.record.holderIdentity == "")

        let clock = ManualClock()
        let elector = LeaderElector(identity: "new-process", lock: lock, clock: clock)
        // No clock advance: a released lease is taken on the first attempt.
        try await elector.run {
            let lease = try await lock.get()?.record
            #expect(lease?.holderIdentity == "new-process" && lease?.leaseTransitions == 3)
        }
        #expect(try await lock.get()?.record.holderIdentity == "", "released again on a clean end")
    }
}
