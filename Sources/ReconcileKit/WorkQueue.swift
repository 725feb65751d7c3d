import Foundation

/// A controller work queue of `namespace/name` keys with delayed and rate-limited adds, on an
/// injected clock. Workers call `next()` (suspending while nothing is ready) and `done(_:)` when
/// they finish a key; the queue rules are `WorkQueueState`'s. One timer task runs while delayed
/// keys wait, sleeping until the earliest; a key due earlier than that replaces the timer.
public final class WorkQueue<C: Clock>: @unchecked Sendable where C.Duration == Duration {
    private let lock = NSLock()
    private var state = WorkQueueState<String>()
    private var waiters: [CheckedContinuation<String?, Never>] = []
    private var delayed: [String: C.Instant] = [:]
    private var limiter: any RateLimiter
    private var timer: (id: UInt64, task: Task<Void, Never>, target: C.Instant)?
    private var timerCount: UInt64 = 0
    private var isShutDown = false
    private let clock: C
    private let origin: C.Instant

    public init(clock: C, rateLimiter: any RateLimiter = MaxOfRateLimiter.controllerDefault) {
        self.clock = clock
        origin = clock.now
        limiter = rateLimiter
    }

    /// Queues `key` now (a key already queued is not queued twice).
    public func add(_ key: String) {
        let handOut: (CheckedContinuation<String?, Never>, String)? = lock.withLock {
            guard !isShutDown else { return nil }
            delayed[key] = nil
            return state.add(key) ? handOutLocked() : nil
        }
        if let (waiter, next) = handOut { waiter.resume(returning: next) }
    }

    /// Queues `key` once `delay` has passed; of several pending delays the earliest counts.
    public func add(_ key: String, after delay: Duration) {
        guard delay > .zero else { return add(key) }
        lock.withLock {
            guard !isShutDown else { return }
            let due = clock.now.advanced(by: delay)
            if let pending = delayed[key], pending <= due { return }
            delayed[key] = due
            if let timer, timer.target <= due { return }
            timer?.task.cancel()
            timerCount += 1
            let id = timerCount
            timer = (id, Task { await runTimer(id) }, due)
        }
    }

    /// Queues `key` after the rate limiter's delay, counting one more failure of it.
    public func addRateLimited(_ key: String) {
        let delay: Duration = lock.withLock { limiter.delay(for: key, now: origin.duration(to: clock.now)) }
        add(key, after: delay)
    }

    /// Resets `key`'s failure count.
    public func forget(_ key: String) { lock.withLock { limiter.forget(key) } }

    /// Consecutive failures of `key` (retries so far).
    public func failures(of key: String) -> Int { lock.withLock { limiter.failures(of: key) } }

    /// The next key to process, waiting for one; nil once the queue is shut down.
    public func next() async -> String? {
        await withCheckedContinuation { continuation in
            let ready: String?? = lock.withLock {
                if let key = state.take() { return .some(key) }
                if isShutDown { return .some(nil) }
                waiters.append(continuation)
                return .none
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Processing of `key` ended; if it was added meanwhile it is queued again.
    public func done(_ key: String) {
        let handOut: (CheckedContinuation<String?, Never>, String)? = lock.withLock { state.done(key) ? handOutLocked() : nil }
        if let (waiter, next) = handOut { waiter.resume(returning: next) }
    }

    /// Keys ready to be processed.
    public var depth: Int { lock.withLock { state.depth } }

    /// Stops handing out keys: waiting workers get nil; keys being processed may still call `done`.
    public func shutDown() {
        let waiting: [CheckedContinuation<String?, Never>] = lock.withLock {
            isShutDown = true
            timer?.task.cancel()
            timer = nil
            defer { waiters = [] }
            return waiters
        }
        for waiter in waiting { waiter.resume(returning: nil) }
    }

    /// A waiting worker and the ready key it gets (called under the lock, so no other worker can
    /// take the key in between).
    private func handOutLocked() -> (CheckedContinuation<String?, Never>, String)? {
        guard !waiters.isEmpty, let key = state.take() else { return nil }
        return (waiters.removeFirst(), key)
    }

    /// Sleeps until the earliest delayed key is due, queues every due key; ends when none waits
    /// or when a timer for an earlier key replaced it.
    private func runTimer(_ id: UInt64) async {
        while true {
            let earliest: C.Instant? = lock.withLock {
                guard timer?.id == id else { return nil }
                guard !isShutDown, let earliest = delayed.values.min() else {
                    timer = nil
                    return nil
                }
                timer?.target = earliest
                return earliest
            }
            guard let earliest else { return }
            try? await clock.sleep(until: earliest, tolerance: nil)
            let due: [String] = lock.withLock {
                let now = clock.now
                let keys = delayed.filter { $0.value <= now }.map(\.key)
                for key in keys { delayed[key] = nil }
                return keys
            }
            for key in due { add(key) }
        }
    }
}
