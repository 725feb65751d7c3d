@testable import APINode
import DeployerTesting
import Testing

/// The pool's admission rules, without I/O.
@Suite struct PoolStateMachineTests {
    @Test func runsUpToTheCeilingQueuesInOrderAndRejectsBeyondTheQueue() {
        var machine = PoolStateMachine(ceiling: 2, queueLimit: 2)
        #expect(machine.acquire(1) == .run)
        #expect(machine.acquire(2) == .run)
        #expect(machine.acquire(3) == .wait)
        #expect(machine.acquire(4) == .wait)
        #expect(machine.acquire(5) == .reject)
        #expect(machine.release() == 3, "the slot passes to the oldest waiter")
        #expect(machine.release() == 4)
        #expect(machine.release() == nil)
        #expect(machine.running == 1)
        #expect(machine.acquire(6) == .run)
    }

    @Test func anExpiredWaitLeavesTheQueueButNotARunningQuery() {
        var machine = PoolStateMachine(ceiling: 1, queueLimit: 3)
        #expect(machine.acquire(1) == .run)
        #expect(machine.acquire(2) == .wait)
        #expect(machine.acquire(3) == .wait)
        let abandoned = machine.abandon(2)
        #expect(abandoned)
        #expect(machine.release() == 3)
        let lateAbandon = machine.abandon(3)
        #expect(!lateAbandon, "already let in")
        #expect(machine.waiting.isEmpty)
    }

    @Test func newArrivalsDoNotOvertakeWaiters() {
        var machine = PoolStateMachine(ceiling: 1, queueLimit: 5)
        #expect(machine.acquire(1) == .run)
        #expect(machine.acquire(2) == .wait)
        #expect(machine.release() == 2)
        #expect(machine.acquire(3) == .wait, "the freed slot went to the waiter, not the newcomer")
    }
}

/// The pool with a manual clock: a waiter expires exactly when its timeout passes.
@Suite struct EndpointPoolTests {
    @Test func aFullQueueAndAnExpiredWaitAreRejected() async throws {
        let clock = ManualClock()
        let pool = EndpointPool(tuning: EndpointTuning(floor: 1, ceil: 1, cruise: 1, queue: 1, timeoutMs: 100), clock: clock)
        let (release, releaseSignal) = AsyncStream<Void>.makeStream()
        let (started, startedSignal) = AsyncStream<Void>.makeStream()
        let holder = Task {
            try await pool.run {
                startedSignal.yield()
                for await _ in release { break }
            }
        }
        for await _ in started { break }
        let waiter = Task { try await pool.run { 1 } }
        await pool.waitForLoad { $0.waiting == 1 }
        await #expect(throws: PoolRejection.queueFull) { try await pool.run { 2 } }
        await clock.advance(by: .milliseconds(100))
        await #expect(throws: PoolRejection.waitExpired) { try await waiter.value }
        releaseSignal.yield()
        try await holder.value
        #expect(try await pool.run { 3 } == 3)
        #expect(pool.load.running == 0)
    }
}
