import Foundation

/// The bounded in-memory queue in front of a shipper: producers append without waiting (an
/// event that does not fit is refused, and the caller counts it), the single consumer takes
/// batches.
final class ShippingQueue: @unchecked Sendable {
    private let lock = NSLock()
    private let limit: Int
    private var events: [ShippedEvent] = []
    private var waiter: CheckedContinuation<Void, Never>?
    private var finished = false

    init(limit: Int) { self.limit = limit }

    /// Queues `event`; false when the queue is full or finished.
    func append(_ event: ShippedEvent) -> Bool {
        let (accepted, resumed): (Bool, CheckedContinuation<Void, Never>?) = lock.withLock {
            guard !finished, events.count < limit else { return (false, nil) }
            events.append(event)
            defer { waiter = nil }
            return (true, waiter)
        }
        resumed?.resume()
        return accepted
    }

    /// Waits until something is queued or the queue is finished.
    func waitForEvents() async {
        await withCheckedContinuation { continuation in
            let ready = lock.withLock {
                if !events.isEmpty || finished { return true }
                waiter = continuation
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// Up to `maximum` queued events, oldest first, without waiting.
    func take(_ maximum: Int) -> [ShippedEvent] {
        lock.withLock {
            let count = min(maximum, events.count)
            defer { events.removeFirst(count) }
            return Array(events.prefix(count))
        }
    }

    var count: Int { lock.withLock { events.count } }

    var isFinished: Bool { lock.withLock { finished } }

    /// Refuses new events and wakes the consumer, which drains what is queued.
    func finish() {
        let resumed: CheckedContinuation<Void, Never>? = lock.withLock {
            finished = true
            defer { waiter = nil }
            return waiter
        }
        resumed?.resume()
    }
}
