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
    private let timeout: Duration
    private let clock: C

    public init(tuning: EndpointTuning, clock: C) {
        machine = PoolStateMachine(ceiling: tuning.ceil, queueLimit: tuning.queue)
        timeout = .milliseconds(tuning.timeoutMs)
        self.clock = clock
    }

    /// Runs `body` once admitted; throws `PoolRejection` when the queue is full or the wait expires.
    public func run<T>(_ body: () async throws -> T) async throws -> T {
        let (ticket, admission) = lock.withLock {
            nextTicket += 1
            return (nextTicket, machine.acquire(nextTicket))
        }
        switch admission {
        case .run: break
        case .reject: throw PoolRejection.queueFull
        case .wait: try await waitForTurn(ticket)
        }
        defer { leave() }
        return try await body()
    }

    /// Queries running and waiting (for metrics and tests).
    public var load: (running: Int, waiting: Int) { lock.withLock { (machine.running, machine.waiting.count) } }

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
        let next: CheckedContinuation<Void, any Error>? = lock.withLock {
            guard let ticket = machine.release() else { return nil }
            guard let waiter = waiters.removeValue(forKey: ticket) else {
                admittedEarly.insert(ticket)
                return nil
            }
            return waiter.continuation
        }
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
            let expired = lock.withLock { () -> [CheckedContinuation<Void, any Error>] in
                let now = clock.now
                let due = waiters.filter { $0.value.deadline <= now }.map(\.key)
                return due.compactMap { ticket in
                    guard machine.abandon(ticket) else { return nil }
                    return waiters.removeValue(forKey: ticket)?.continuation
                }
            }
            for continuation in expired { continuation.resume(throwing: PoolRejection.waitExpired) }
        }
    }
}
