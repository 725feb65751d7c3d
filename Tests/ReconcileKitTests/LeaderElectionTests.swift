import DeployerTesting
import Foundation
import Testing

@testable import ReconcileKit

@Suite struct LeaderElectionTests {
    typealias Decider = LeaseDecider<ManualClock.Instant>
    let clock = ManualClock()

    func record(_ holder: String, transitions: Int = 0) -> LeaseRecord {
        LeaseRecord(holderIdentity: holder, leaseDuration: .seconds(15), acquireTime: Date(timeIntervalSince1970: 0),
                    renewTime: Date(timeIntervalSince1970: 0), leaseTransitions: transitions)
    }

    @Test func anotherHoldersLeaseExpiresOnlyAfterItsDurationOnOurClockWithoutChange() {
        var decider = Decider(identity: "b", leaseDuration: .seconds(15))
        let start = clock.now
        let held = (record: record("a"), version: "1")
        #expect(decider.decide(current: held, now: start, date: Date()) == .backOff)
        #expect(decider.decide(current: held, now: start.advanced(by: .seconds(14)), date: Date()) == .backOff)
        // The holder renewed: our observation starts again.
        var renewed = held.record
        renewed.renewTime = Date(timeIntervalSince1970: 10)
        #expect(decider.decide(current: (renewed, "2"), now: start.advanced(by: .seconds(14)), date: Date()) == .backOff)
        #expect(decider.decide(current: (renewed, "2"), now: start.advanced(by: .seconds(28)), date: Date()) == .backOff)
        guard case .update(let taken, let version) = decider.decide(current: (renewed, "2"), now: start.advanced(by: .seconds(29)), date: Date())
        else { Issue.record("expected a takeover"); return }
        #expect(taken.holderIdentity == "b" && taken.leaseTransitions == 1 && version == "2")
    }

    @Test func noLeaseIsCreatedAReleasedOneIsTakenAtOnceAndARenewalKeepsTheTransitions() {
        var decider = Decider(identity: "a", leaseDuration: .seconds(15))
        guard case .create(let created) = decider.decide(current: nil, now: clock.now, date: Date()) else { Issue.record("expected a create"); return }
        #expect(created.holderIdentity == "a" && created.leaseTransitions == 0)
        guard case .update(let renewed, _) = decider.decide(current: (record("a", transitions: 3), "5"), now: clock.now, date: Date())
        else { Issue.record("expected a renewal"); return }
        #expect(renewed.leaseTransitions == 3 && renewed.acquireTime == Date(timeIntervalSince1970: 0))
        guard case .update(let taken, _) = decider.decide(current: (record("", transitions: 3), "6"), now: clock.now, date: Date())
        else { Issue.record("expected a takeover of a released lease"); return }
        #expect(taken.holderIdentity == "a" && taken.leaseTransitions == 4)
    }

    @Test func theSecondCandidateLeadsOnceTheFirstReleases() async throws {
        let lock = MemoryLeaseLock()
        let (stopFirst, stopFirstSignal) = AsyncStream<Void>.makeStream()
        let (events, eventSignal) = AsyncStream<String>.makeStream()
        var received = events.makeAsyncIterator()
        let first = LeaderElector(identity: "a", lock: lock, clock: clock)
        let second = LeaderElector(identity: "b", lock: lock, clock: clock)
        let firstRun = Task {
            try await first.run {
                eventSignal.yield("a leads")
                for await _ in stopFirst { break }
            }
        }
        #expect(await received.next() == "a leads")
        let secondRun = Task {
            try await second.run {
                eventSignal.yield("b leads")
            }
        }
        while await lock.get()?.record.holderIdentity != "a" { await Task.yield() }
        stopFirstSignal.yield()
        try await firstRun.value
        #expect(await lock.get()?.record.holderIdentity == "", "released on a clean end")
        await clock.advance(by: .seconds(2))
        #expect(await received.next() == "b leads")
        try await secondRun.value
        let final = await lock.get()?.record
        #expect(final?.leaseTransitions == 1)
    }

    @Test func aLeaderThatCannotRenewWithinTheDeadlineStopsLeading() async throws {
        let lock = FailingLeaseLock()
        let leader = LeaderElector(identity: "a", lock: lock, clock: clock)
        let running = Task {
            try await leader.run {
                try await Task.sleep(for: .seconds(3600))
            }
        }
        while await lock.inner.get() == nil { await Task.yield() }
        await lock.failFromNowOn()
        for _ in 0..<5 { await clock.advance(by: .seconds(2)) }
        await #expect(throws: LeaderElectionLost.self) { try await running.value }
    }
}

/// A lease lock whose writes start failing when told (an API server the leader cannot reach).
actor FailingLeaseLock: LeaseLock {
    let inner = MemoryLeaseLock()
    private var failing = false

    func failFromNowOn() { failing = true }

    func get() async throws -> (record: LeaseRecord, version: String)? {
        if failing { throw URLError(.timedOut) }
        return await inner.get()
    }

    func create(_ record: LeaseRecord) async throws { try await inner.create(record) }

    func update(_ record: LeaseRecord, version: String) async throws {
        if failing { throw URLError(.timedOut) }
        try await inner.update(record, version: version)
    }
}

/// A lease in memory, for tests.
actor MemoryLeaseLock: LeaseLock {
    private var stored: (record: LeaseRecord, version: Int)?

    func get() -> (record: LeaseRecord, version: String)? { stored.map { ($0.record, String($0.version)) } }

    func create(_ record: LeaseRecord) throws {
        guard stored == nil else { throw LeaseConflict() }
        stored = (record, 1)
    }

    func update(_ record: LeaseRecord, version: String) throws {
        guard let current = stored, String(current.version) == version else { throw LeaseConflict() }
        stored = (record, current.version + 1)
    }
}
