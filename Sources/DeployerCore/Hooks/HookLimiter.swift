/// Limits how many hooks run at once across the controller. A hook that cannot start within
/// `maximumWait` fails with `HookLimiter.Busy`, which the reconciler retries with backoff.
public actor HookLimiter<C: Clock> where C.Duration == Duration {
    /// No slot freed within the bounded wait.
    public struct Busy: Error, CustomStringConvertible {
        public var description: String { "all hook slots stayed busy; the hook will be retried" }
    }

    private struct Waiter {
        let id: Int
        let continuation: CheckedContinuation<Void, any Error>
    }

    public let limit: Int
    let maximumWait: Duration
    let clock: C
    private var running = 0
    private var waiters: [Waiter] = []
    private var nextID = 0

    public init(limit: Int = 3, maximumWait: Duration = .seconds(120), clock: C) {
        self.limit = max(1, limit)
        self.maximumWait = maximumWait
        self.clock = clock
    }

    /// Runs `body` once a slot is free.
    public func withSlot<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async throws {
        if running < limit {
            running += 1
            return
        }
        nextID += 1
        let id = nextID
        let timeout = Task { [clock, maximumWait] in
            try await clock.sleep(for: maximumWait)
            self.expire(id)
        }
        defer { timeout.cancel() }
        try await withCheckedThrowingContinuation { continuation in
            waiters.append(Waiter(id: id, continuation: continuation))
        }
    }

    private func expire(_ id: Int) {
        guard let position = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: position).continuation.resume(throwing: Busy())
    }

    private func release() {
        if waiters.isEmpty {
            running -= 1
        } else {
            // The slot passes straight to the oldest waiter.
            waiters.removeFirst().continuation.resume()
        }
    }
}
