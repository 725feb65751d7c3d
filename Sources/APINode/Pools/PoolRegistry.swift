import Foundation

/// The pools of every endpoint, created on first use and replaced when their tuning changes.
final class PoolRegistry: @unchecked Sendable {
    private let lock = NSLock()
    private var pools: [String: (tuning: EndpointTuning, pool: EndpointPool<ContinuousClock>)] = [:]

    func pool(service: String, endpoint: String, tuning: EndpointTuning) -> EndpointPool<ContinuousClock> {
        let key = "\(service)/\(endpoint)"
        return lock.withLock {
            if let existing = pools[key], existing.tuning == tuning { return existing.pool }
            let pool = EndpointPool(tuning: tuning, clock: ContinuousClock())
            pools[key] = (tuning, pool)
            return pool
        }
    }
}
