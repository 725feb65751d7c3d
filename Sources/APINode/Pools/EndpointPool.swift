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
/// on an injected clock.
public actor EndpointPool<C: Clock> where C.Duration == Duration {
    private var machine: PoolStateMachine
    private var waiters: [UInt64: CheckedContinuation<Void, any Error>] = [:]
    private var nextTicket: UInt64 = 0
    private let timeout: Duration
    private let clock: C

    public init(tuning: EndpointTuning, clock: C) {
        machine = PoolStateMachine(ceiling: tuning.ceil, queueLimit: tuning.queue)
        timeout = .milliseconds(tuning.timeoutMs)
        self.clock = clock
    }

    /// Runs `body` once admitted; throws `PoolRejection` when the queue is full or the wait expires.
    public func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await admit()
        defer { leave() }
        return try await body()
    }

    /// Queries running and waiting (for metrics and tests).
    public var load: (running: Int, waiting: Int) { (machine.running, machine.waiting.count) }

    private func admit() async throws {
        nextTicket += 1
        let ticket = nextTicket
        switch machine.acquire(ticket) {
        case .run: return
        case .reject: throw PoolRejection.queueFull
        case .wait:
            let clock = self.clock
            let timeout = self.timeout
            let timer = Task { [weak self] in
                try await clock.sleep(for: timeout)
                await self?.expire(ticket)
            }
            defer { timer.cancel() }
            try await withCheckedThrowingContinuation { continuation in waiters[ticket] = continuation }
        }
    }

    private func leave() {
        guard let next = machine.release() else { return }
        waiters.removeValue(forKey: next)?.resume()
    }

    private func expire(_ ticket: UInt64) {
        guard machine.abandon(ticket) else { return }
        waiters.removeValue(forKey: ticket)?.resume(throwing: PoolRejection.waitExpired)
    }
}
