import Foundation

/// What a shipper has done so far; every field only grows except `queued` and `spooledBytes`.
public struct ShippingCounts: Sendable, Equatable {
    /// Events the event server acknowledged.
    public var shipped = 0
    /// Events written to the disk spool.
    public var spooled = 0
    /// Events dropped because the memory queue or the spool was full.
    public var dropped = 0
    /// Events the event server refused (4xx: wrong key, unknown topic); not retried.
    public var refused = 0
    /// Bytes in the spool now.
    public var spooledBytes = 0
    /// Whether the last attempt reached the event server.
    public var reachable = true
}

/// The counts behind a lock, with waiters for tests and shutdown.
final class ShippingCounters: @unchecked Sendable {
    private let lock = NSLock()
    private var counts = ShippingCounts()
    private var waiters: [(condition: @Sendable (ShippingCounts) -> Bool, continuation: CheckedContinuation<Void, Never>)] = []

    var current: ShippingCounts { lock.withLock { counts } }

    func update(_ change: (inout ShippingCounts) -> Void) {
        let ready: [CheckedContinuation<Void, Never>] = lock.withLock {
            change(&counts)
            let now = counts
            let (met, waiting) = (waiters.filter { $0.condition(now) }, waiters.filter { !$0.condition(now) })
            waiters = waiting
            return met.map(\.continuation)
        }
        for continuation in ready { continuation.resume() }
    }

    /// Returns once `condition` holds.
    func wait(until condition: @escaping @Sendable (ShippingCounts) -> Bool) async {
        await withCheckedContinuation { continuation in
            let met = lock.withLock {
                if condition(counts) { return true }
                waiters.append((condition, continuation))
                return false
            }
            if met { continuation.resume() }
        }
    }
}
