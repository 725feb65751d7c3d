import Foundation

/// Tuning of one endpoint (`endpointTuning` of a deployment). For native ONNX endpoints a
/// pipeline is an evaluation slot: `ceil` bounds concurrent evaluations, `queue` the waiting
/// queries and `timeoutMs` how long one may wait; `floor` and `cruise` matter for Python
/// worker pools, which keep processes warm.
public struct EndpointTuning: Codable, Sendable, Equatable {
    public var floor: Int
    public var ceil: Int
    public var cruise: Int
    public var queue: Int
    public var timeoutMs: Int

    /// The defaults of the API node reference.
    public static let defaults = EndpointTuning(floor: 1, ceil: 8, cruise: 2, queue: 64, timeoutMs: 10_000)

    public init(floor: Int, ceil: Int, cruise: Int, queue: Int, timeoutMs: Int) {
        self.floor = floor
        self.ceil = ceil
        self.cruise = cruise
        self.queue = queue
        self.timeoutMs = timeoutMs
    }
}

/// Why a query was not admitted (answered 503).
public enum PoolRejection: Error, Sendable, Equatable {
    case queueFull
    case waitExpired
}

/// An endpoint's admission control over a `PoolStateMachine`, with waits bounded by `timeout`
/// on an injected clock. Admission is a short critical section under a lock, so a query that
/// may run at once runs on its own task without any hop; only waiting queries suspend. One timer
/// task per pool runs while queries wait, sleeping until the earliest deadline.
public final class EndpointPool<C: Clock>: @unchecked Sendable where C.Duration == Duration {
    private let lock = NSLock()
    private var machine: PoolStateMachine
    private var waiters: [UInt64: (deadline: C.Instant, continuation: CheckedContinuation<Void, any Error>)] = [:]
    /// Tickets let in by a release before their waiter registered.
    private var admittedEarly: Set<UInt64> = []
    private var nextTicket: UInt64 = 0
    private var timerRunning = false
    /// Tests waiting for a load (checked only when there are any).
    private var loadWatchers: [(condition: @Sendable (Load) -> Bool, continuation: CheckedContinuation<Void, Never>)] = []
    private let timeout: Duration
    private let clock: C

    public init(tuning: EndpointTuning, clock: C) {
        machine = PoolStateMachine(ceiling: tuning.ceil, queueLimit: tuning.queue)
        timeout = .milliseconds(tuning.timeoutMs)
        self.clock = clock
    }

    /// Runs `body` once admitted; throws `PoolRejection` when the queue is full or the wait expires.
    public func run<T>(_ body: () async throws -> T) async throws -> T {
        let (ticket, admission, met) = lock.withLock {
            nextTicket += 1
            let admission = machine.acquire(nextTicket)
            return (nextTicket, admission, metLoadWatchers())
        }
        for watcher in met { watcher.resume() }
        switch admission {
        case .run: break
        case .reject: throw PoolRejection.queueFull
        case .wait: try await waitForTurn(ticket)
        }
        defer { leave() }
        return try await body()
    }

    /// Queries running and waiting.
    public typealias Load = (running: Int, waiting: Int)

    /// Queries running and waiting (for metrics and tests).
    public var load: Load { lock.withLock { (machine.running, machine.waiting.count) } }

    /// Waits until the load satisfies `condition` (for tests: no polling).
    public func waitForLoad(_ condition: @escaping @Sendable (Load) -> Bool) async {
        await withCheckedContinuation { continuation in
            let satisfied = lock.withLock {
                if condition((machine.running, machine.waiting.count)) { return true }
                loadWatchers.append((condition, continuation))
                return false
            }
            if satisfied { continuation.resume() }
        }
    }

    /// Removes and returns the watchers whose condition the load now meets (under the lock).
    private func metLoadWatchers() -> [CheckedContinuation<Void, Never>] {
        guard !loadWatchers.isEmpty else { return [] }
        let load: Load = (machine.running, machine.waiting.count)
        let met = loadWatchers.filter { $0.condition(load) }
        loadWatchers.removeAll { $0.condition(load) }
        return met.map(\.continuation)
    }

    private func waitForTurn(_ ticket: UInt64) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let (admitted, startTimer) = lock.withLock { () -> (Bool, Bool) in
                if admittedEarly.remove(ticket) != nil { return (true, false) }
                waiters[ticket] = (clock.now.advanced(by: timeout), continuation)
                defer { timerRunning = true }
                return (false, !timerRunning)
            }
            if admitted { continuation.resume() }
            if startTimer { Task { await expireWaiters() } }
        }
    }

    private func leave() {
        let (next, met) = lock.withLock { () -> (CheckedContinuation<Void, any Error>?, [CheckedContinuation<Void, Never>]) in
            guard let ticket = machine.release() else { return (nil, metLoadWatchers()) }
            guard let waiter = waiters.removeValue(forKey: ticket) else {
                admittedEarly.insert(ticket)
                return (nil, metLoadWatchers())
            }
            return (waiter.continuation, metLoadWatchers())
        }
        for watcher in met { watcher.resume() }
        next?.resume()
    }

    /// Sleeps until the earliest deadline and refuses the waiters whose wait expired; ends when
    /// no query waits. (Every wait has the same timeout, so later waiters never have earlier
    /// deadlines than the one being slept for.)
    private func expireWaiters() async {
        while true {
            let earliest: C.Instant? = lock.withLock {
                guard let earliest = waiters.values.map(\.deadline).min() else {
                    timerRunning = false
                    return nil
                }
                return earliest
            }
            guard let earliest else { return }
            try? await clock.sleep(until: earliest, tolerance: nil)
            let (expired, met) = lock.withLock { () -> ([CheckedContinuation<Void, any Error>], [CheckedContinuation<Void, Never>]) in
                let now = clock.now
                let due = waiters.filter { $0.value.deadline <= now }.map(\.key)
                let expired = due.compactMap { ticket in
                    machine.abandon(ticket) ? waiters.removeValue(forKey: ticket)?.continuation : nil
                }
                return (expired, metLoadWatchers())
            }
            for watcher in met { watcher.resume() }
            for continuation in expired { continuation.resume(throwing: PoolRejection.waitExpired) }
        }
    }
}
