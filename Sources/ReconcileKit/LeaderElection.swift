import Foundation
import ServiceLifecycle

/// A leader-election lease (the fields of `coordination.k8s.io/v1` Lease that election uses).
public struct LeaseRecord: Sendable, Equatable {
    public var holderIdentity: String
    public var leaseDuration: Duration
    public var acquireTime: Date
    public var renewTime: Date
    public var leaseTransitions: Int

    public init(holderIdentity: String, leaseDuration: Duration, acquireTime: Date, renewTime: Date, leaseTransitions: Int) {
        self.holderIdentity = holderIdentity
        self.leaseDuration = leaseDuration
        self.acquireTime = acquireTime
        self.renewTime = renewTime
        self.leaseTransitions = leaseTransitions
    }
}

/// Where the lease lives: the embedded store, or a Kubernetes Lease. Writes are optimistic:
/// `create` fails if a lease exists and `update` if `version` is stale, both with `LeaseConflict`.
public protocol LeaseLock: Sendable {
    func get() async throws -> (record: LeaseRecord, version: String)?
    func create(_ record: LeaseRecord) async throws
    func update(_ record: LeaseRecord, version: String) async throws
}

/// A lease write lost a race with another candidate.
public struct LeaseConflict: Error, Sendable {
    public init() {}
}

/// Leadership ended because the lease could not be renewed within the renew deadline.
public struct LeaderElectionLost: Error, Sendable {}

/// client-go's `tryAcquireOrRenew` as a pure value: what to write, given the lease as read now.
/// Another holder's lease counts as expired only when its record has not changed for its lease
/// duration as measured on *our* clock since we saw it change (never from its `renewTime`).
struct LeaseDecider<Instant: InstantProtocol> where Instant.Duration == Duration {
    let identity: String
    let leaseDuration: Duration
    private var observed: (record: LeaseRecord, at: Instant)?

    init(identity: String, leaseDuration: Duration) {
        self.identity = identity
        self.leaseDuration = leaseDuration
    }

    enum Action: Equatable {
        case create(LeaseRecord)
        case update(LeaseRecord, version: String)
        case backOff
    }

    mutating func decide(current: (record: LeaseRecord, version: String)?, now: Instant, date: Date) -> Action {
        guard let current else {
            return .create(LeaseRecord(holderIdentity: identity, leaseDuration: leaseDuration, acquireTime: date, renewTime: date, leaseTransitions: 0))
        }
        if observed?.record != current.record { observed = (current.record, now) }
        let record = current.record
        let heldByOther = !record.holderIdentity.isEmpty && record.holderIdentity != identity
        if heldByOther, let seen = observed, seen.at.advanced(by: record.leaseDuration) > now { return .backOff }
        var next = record
        if record.holderIdentity != identity {
            next.acquireTime = date
            next.leaseTransitions += 1
        }
        next.holderIdentity = identity
        next.leaseDuration = leaseDuration
        next.renewTime = date
        return .update(next, version: current.version)
    }
}

/// Runs work only while holding the lease: tries to acquire every `retryPeriod` (a graceful
/// shutdown meanwhile ends the wait, and the work never starts); once leader, runs `leading`
/// while renewing every `retryPeriod`; if no renewal succeeds within `renewDeadline` it cancels
/// the work and throws `LeaderElectionLost` (the process should exit, as controller-runtime's
/// does). When the work ends normally the lease is released so another candidate takes over at once.
public struct LeaderElector<C: Clock>: Sendable where C.Duration == Duration {
    public let identity: String
    let lock: any LeaseLock
    let clock: C
    let leaseDuration: Duration
    let renewDeadline: Duration
    let retryPeriod: Duration

    /// Defaults are controller-runtime's: 15 s lease, 10 s renew deadline, 2 s retry period.
    public init(
        identity: String, lock: any LeaseLock, clock: C, leaseDuration: Duration = .seconds(15), renewDeadline: Duration = .seconds(10),
        retryPeriod: Duration = .seconds(2)
    ) {
        precondition(leaseDuration > renewDeadline && renewDeadline > retryPeriod * 1.2, "lease > renew deadline > 1.2 × retry period")
        self.identity = identity
        self.lock = lock
        self.clock = clock
        self.leaseDuration = leaseDuration
        self.renewDeadline = renewDeadline
        self.retryPeriod = retryPeriod
    }

    public func run(leading: @escaping @Sendable () async throws -> Void) async throws {
        let acquired: LeaseDecider<C.Instant>
        do {
            acquired = try await cancelWhenGracefulShutdown { try await acquire() }
        } catch is CancellationError {
            return
        }
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await leading()
                return true
            }
            group.addTask {
                var decider = acquired
                var lastRenewal = clock.now
                while true {
                    try await clock.sleep(for: retryPeriod)
                    if await attempt(&decider) {
                        lastRenewal = clock.now
                    } else if lastRenewal.advanced(by: renewDeadline) <= clock.now {
                        throw LeaderElectionLost()
                    }
                }
            }
            _ = try await group.next()
            group.cancelAll()
        }
        try await lock.release(heldBy: identity)
    }

    private func acquire() async throws -> LeaseDecider<C.Instant> {
        var decider = LeaseDecider<C.Instant>(identity: identity, leaseDuration: leaseDuration)
        while await !attempt(&decider) { try await clock.sleep(for: retryPeriod) }
        return decider
    }

    /// One `tryAcquireOrRenew`; true when we hold the lease afterwards. A failed read or write
    /// counts as not holding it (the deadline decides what that means).
    private func attempt(_ decider: inout LeaseDecider<C.Instant>) async -> Bool {
        do {
            let current = try await lock.get()
            switch decider.decide(current: current, now: clock.now, date: Date()) {
            case .backOff: return false
            case .create(let record): try await lock.create(record)
            case .update(let record, let version): try await lock.update(record, version: version)
            }
            return true
        } catch {
            return false
        }
    }
}

extension LeaseLock {
    /// Releases the lease (empty holder, 1 s duration) if `identity` holds it, or whoever holds
    /// it when `identity` is nil — for a caller that knows the holder is gone.
    public func release(heldBy identity: String?) async throws {
        guard let current = try await get(), !current.record.holderIdentity.isEmpty,
            identity == nil || current.record.holderIdentity == identity
        else { return }
        var released = current.record
        released.holderIdentity = ""
        released.leaseDuration = .seconds(1)
        try? await update(released, version: current.version)
    }
}

/// A service that runs only while its elector holds the lease.
public struct LeaderElectedService<C: Clock>: Service where C.Duration == Duration {
    let elector: LeaderElector<C>
    let service: any Service

    public init(elector: LeaderElector<C>, service: any Service) {
        self.elector = elector
        self.service = service
    }

    public func run() async throws {
        try await elector.run { try await service.run() }
    }
}
