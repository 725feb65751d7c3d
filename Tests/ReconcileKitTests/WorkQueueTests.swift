import DeployerTesting
import Testing

@testable import ReconcileKit

/// The queue rules and the rate limiters, without I/O.
@Suite struct WorkQueueStateTests {
    @Test func aKeyIsQueuedOnceAndAKeyAddedWhileProcessingComesBackAfterDone() {
        var state = WorkQueueState<String>()
        var log: [String] = []
        func note(_ value: Any?) { log.append(value.map { "\($0)" } ?? "nil") }
        note(state.add("a")); note(state.add("b")); note(state.add("a"))  // queued, queued, already queued
        note(state.take()); note(state.add("a"))  // a processing: only marked dirty
        note(state.take()); note(state.take())  // b; a is not handed to a second worker
        note(state.done("a")); note(state.done("b"))  // a was added meanwhile: ready again
        note(state.take()); note(state.done("a")); note(state.depth)
        #expect(log == ["true", "true", "false", "a", "false", "b", "nil", "true", "false", "a", "false", "0"])
    }

    @Test func exponentialBackoffDoublesFrom5msUpTo1000sAndForgetResets() {
        var limiter = ExponentialFailureRateLimiter()
        let delays = (0..<20).map { _ in limiter.delay(for: "k", now: .zero) }
        #expect(delays.prefix(4) == [.milliseconds(5), .milliseconds(10), .milliseconds(20), .milliseconds(40)])
        #expect(delays[17] == .milliseconds(5 * 131_072), "about 655 s after 17 doublings")
        #expect(delays[18] == .seconds(1000) && delays[19] == .seconds(1000), "capped")
        let other = limiter.delay(for: "other", now: .zero)
        #expect(limiter.failures(of: "k") == 20 && other == .milliseconds(5), "per key")
        limiter.forget("k")
        let afterForget = limiter.delay(for: "k", now: .zero)
        #expect(afterForget == .milliseconds(5))
    }

    @Test func theTokenBucketAllowsABurstOf100ThenTenPerSecond() {
        var bucket = TokenBucketRateLimiter()
        let burst = (0..<100).map { bucket.delay(for: "k\($0)", now: .zero) }
        #expect(burst.allSatisfy { $0 == .zero })
        let next = [
            bucket.delay(for: "x", now: .zero), bucket.delay(for: "y", now: .zero), bucket.delay(for: "z", now: .milliseconds(50)),
            bucket.delay(for: "w", now: .seconds(1)),
        ]
        #expect(next == [.milliseconds(100), .milliseconds(200), .milliseconds(250), .zero], "a token every 100 ms; 10 back in a second")
    }

    @Test func theDefaultIsTheLongerOfBoth() {
        var limiter = MaxOfRateLimiter.controllerDefault
        for index in 0..<100 { _ = limiter.delay(for: "burst\(index)", now: .zero) }
        let first = limiter.delay(for: "k", now: .zero)
        let second = limiter.delay(for: "k", now: .seconds(100))
        #expect(first == .milliseconds(100), "the bucket's delay exceeds 5 ms")
        #expect(second == .milliseconds(10), "the key's own backoff once tokens are back")
    }
}

/// The queue on a manual clock: delayed and rate-limited adds become ready exactly when due.
@Suite struct WorkQueueTests {
    @Test func delayedKeysBecomeReadyWhenDueAndTheEarliestDelayCounts() async {
        let clock = ManualClock()
        let queue = WorkQueue(clock: clock)
        queue.add("late", after: .seconds(10))
        queue.add("late", after: .seconds(30))
        #expect(queue.depth == 0)
        await clock.advance(by: .seconds(10))
        #expect(await queue.next() == "late")
        queue.done("late")
        queue.add("soon", after: .seconds(60))
        queue.add("sooner", after: .seconds(1))  // replaces the timer sleeping for 60 s
        await clock.advance(by: .seconds(1))
        #expect(await queue.next() == "sooner")
        queue.shutDown()
        #expect(await queue.next() == nil)
    }

    @Test func rateLimitedAddsWaitTheBackoff() async {
        let clock = ManualClock()
        let queue = WorkQueue(clock: clock, rateLimiter: ExponentialFailureRateLimiter())
        queue.addRateLimited("k")  // 5 ms
        await clock.advance(by: .milliseconds(5))
        #expect(await queue.next() == "k")
        queue.done("k")
        queue.addRateLimited("k")  // 10 ms
        await clock.advance(by: .milliseconds(9))
        #expect(queue.depth == 0, "not before its backoff")
        await clock.advance(by: .milliseconds(1))
        #expect(await queue.next() == "k")
        #expect(queue.failures(of: "k") == 2)
        queue.forget("k")
        #expect(queue.failures(of: "k") == 0)
    }
}
