/// The admission rules of an endpoint pool, as a pure state machine: at most `ceiling` queries
/// run; up to `queueLimit` more wait in arrival order; beyond that a query is refused at once.
/// Transitions return what the caller must do, so they are tested without I/O.
struct PoolStateMachine: Sendable {
    /// What `acquire` decided.
    enum Admission: Equatable, Sendable {
        case run
        case wait
        case reject
    }

    let ceiling: Int
    let queueLimit: Int
    private(set) var running = 0
    private(set) var waiting: [UInt64] = []

    init(ceiling: Int, queueLimit: Int) {
        self.ceiling = max(1, ceiling)
        self.queueLimit = max(0, queueLimit)
    }

    /// A query with `ticket` arrives.
    mutating func acquire(_ ticket: UInt64) -> Admission {
        if running < ceiling, waiting.isEmpty {
            running += 1
            return .run
        }
        guard waiting.count < queueLimit else { return .reject }
        waiting.append(ticket)
        return .wait
    }

    /// A running query finished; returns the waiting ticket that may run now, if any (the slot
    /// passes to it directly, so arrival order is kept).
    mutating func release() -> UInt64? {
        if waiting.isEmpty {
            running -= 1
            return nil
        }
        return waiting.removeFirst()
    }

    /// A waiting query gave up (its wait expired); false if it had already been let in.
    mutating func abandon(_ ticket: UInt64) -> Bool {
        guard let position = waiting.firstIndex(of: ticket) else { return false }
        waiting.remove(at: position)
        return true
    }
}
