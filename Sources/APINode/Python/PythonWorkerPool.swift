import DeployerModel
import Foundation
import Logging

/// The worker processes of one Python endpoint of one generation.
///
/// Admission (at most `ceil` queries at once, a fair queue, 503s) is the endpoint's
/// `EndpointPool`; this pool holds the processes: `floor` started when the generation becomes
/// active, more started on demand (never more than the admitted queries), idle ones beyond
/// `cruise` stopped after `idleGrace`. A worker that crashes or runs past the timeout is
/// replaced; one whose code raised keeps serving. An inactive pool (generation no longer mapped)
/// keeps no idle worker: each is stopped when its last query returns.
public final class PythonWorkerPool: @unchecked Sendable {
    public let launch: PythonLaunch
    private let lock = NSLock()
    private var tuning: EndpointTuning
    private var active = false
    private var closed = false
    private var idle: [(worker: PythonWorker, since: ContinuousClock.Instant)] = []
    private var busy: [ObjectIdentifier: PythonWorker] = [:]
    private var starting = 0
    /// Of `starting`, the workers started for the idle list (floor, replacements).
    private var startingIdle = 0
    /// Queries waiting for a worker being started for the idle list (the pool is at `ceil`).
    private var handOff: [CheckedContinuation<PythonWorker, any Error>] = []
    /// Stopped workers whose processes may not have ended yet.
    private var retired: [PythonWorker] = []
    private var shrinking = false
    private var watchers: [(condition: @Sendable (WorkerCounts) -> Bool, continuation: CheckedContinuation<Void, Never>)] = []
    private let idleGrace: Duration
    private let logger: Logger

    init(launch: PythonLaunch, tuning: EndpointTuning, idleGrace: Duration, logger: Logger) {
        self.launch = launch
        self.tuning = tuning
        self.idleGrace = idleGrace
        self.logger = logger
    }

    /// Calls the endpoint's code with `request` on a free worker (started if none is idle).
    func call(_ request: JSONValue) async throws -> JSONValue {
        let worker = try await checkOut()
        let timeout = lock.withLock { Duration.milliseconds(tuning.timeoutMs) }
        do {
            let value = try await worker.call(request, timeout: timeout)
            checkIn(worker)
            return value
        } catch PythonCallError.exception(let type, let message) {
            checkIn(worker)
            throw PythonCallError.exception(type: type, message: message)
        } catch {
            discard(worker)
            throw error
        }
    }

    /// Processes running now (idle, busy and starting), for tests and metrics.
    public var workerCount: Int { lock.withLock { idle.count + busy.count + starting } }

    /// Process ids of the running workers.
    public var processIDs: [Int32] { lock.withLock { (idle.map(\.worker) + busy.values).compactMap(\.pid) } }

    /// Started workers (idle or busy) and those of them busy with a call.
    public struct WorkerCounts: Sendable {
        public let started: Int
        public let busy: Int
    }

    private var counts: WorkerCounts { WorkerCounts(started: idle.count + busy.count, busy: busy.count) }

    /// Waits until the pool's worker counts satisfy `condition`.
    public func waitForWorkers(_ condition: @escaping @Sendable (WorkerCounts) -> Bool) async {
        await withCheckedContinuation { continuation in
            let satisfied = lock.withLock {
                if condition(counts) { return true }
                watchers.append((condition, continuation))
                return false
            }
            if satisfied { continuation.resume() }
        }
    }

    /// Sets the tuning and whether the generation is mapped: an active pool keeps `floor`
    /// workers started; an inactive one stops its idle workers.
    func configure(tuning: EndpointTuning, active: Bool) {
        let (stopped, missing) = lock.withLock { () -> ([PythonWorker], Int) in
            guard !closed else { return ([], 0) }
            self.tuning = tuning
            self.active = active
            let stopped = active ? [] : idle.map(\.worker)
            if !active { idle.removeAll() }
            let missing = active ? max(0, tuning.floor - (idle.count + busy.count + starting)) : 0
            starting += missing
            startingIdle += missing
            return (stopped, missing)
        }
        retire(stopped)
        for _ in 0..<missing { Task { await startIdleWorker() } }
        notifyWatchers()
        scheduleShrink()
    }

    /// Stops every worker now, busy ones included (the generation is gone or the node stops).
    func close() async {
        let workers = lock.withLock { () -> [PythonWorker] in
            closed = true
            active = false
            defer { idle.removeAll() }
            return idle.map(\.worker) + busy.values
        }
        retire(workers)
        await waitUntilAllEnded()
        notifyWatchers()
    }

    /// Waits until every worker this pool stopped has ended (its process reaped).
    public func waitUntilAllEnded() async {
        for worker in lock.withLock({ retired }) { await worker.waitUntilEnded() }
        lock.withLock { retired.removeAll { $0.hasEnded } }
    }

    /// Stops workers, remembering them until they have ended.
    private func retire(_ workers: [PythonWorker]) {
        guard !workers.isEmpty else { return }
        lock.withLock {
            retired.removeAll { $0.hasEnded }
            retired += workers
        }
        for worker in workers { worker.stop() }
    }

    /// Stops idle workers now and busy ones when their query returns.
    func drain() {
        configure(tuning: lock.withLock { tuning }, active: false)
        lock.withLock { closed = true }
    }

    private func checkOut() async throws -> PythonWorker {
        enum Plan {
            case reuse(PythonWorker)
            case start
            case awaitStarting
        }
        let plan = lock.withLock { () -> Plan in
            while let (worker, _) = idle.popLast() {
                guard !worker.hasEnded else { continue }  // died while idle
                busy[ObjectIdentifier(worker)] = worker
                return .reuse(worker)
            }
            // A worker being started for the idle list that no query waits for yet is taken
            // rather than starting another (so they also count against `ceil`).
            if startingIdle > handOff.count { return .awaitStarting }
            starting += 1
            return .start
        }
        switch plan {
        case .reuse(let worker):
            notifyWatchers()
            return worker
        case .awaitStarting:
            return try await withCheckedThrowingContinuation { continuation in lock.withLock { handOff.append(continuation) } }
        case .start:
            break
        }
        let worker: PythonWorker
        do {
            worker = try await PythonWorker.start(launch, logger: logger)
        } catch {
            lock.withLock { starting -= 1 }
            notifyWatchers()
            throw error
        }
        lock.withLock {
            starting -= 1
            busy[ObjectIdentifier(worker)] = worker
        }
        notifyWatchers()
        return worker
    }

    private func checkIn(_ worker: PythonWorker) {
        let keep = lock.withLock { () -> Bool in
            busy[ObjectIdentifier(worker)] = nil
            guard active, !closed, !worker.hasEnded else { return false }
            idle.append((worker, .now))
            return true
        }
        if !keep { retire([worker]) }
        notifyWatchers()
        scheduleShrink()
    }

    private func discard(_ worker: PythonWorker) {
        retire([worker])
        let missing = lock.withLock { () -> Int in
            busy[ObjectIdentifier(worker)] = nil
            guard active, !closed else { return 0 }
            let missing = max(0, tuning.floor - (idle.count + busy.count + starting))
            starting += missing
            startingIdle += missing
            return missing
        }
        logger.warning("python worker replaced", metadata: ["file": "\(launch.file)"])
        for _ in 0..<missing { Task { await startIdleWorker() } }
        notifyWatchers()
    }

    /// Starts one worker for the idle list (`starting` was counted by the caller), or for a
    /// query waiting for it.
    private func startIdleWorker() async {
        let started: Result<PythonWorker, any Error>
        do {
            started = .success(try await PythonWorker.start(launch, logger: logger))
        } catch {
            started = .failure(error)
            logger.error("python worker did not start", metadata: ["file": "\(launch.file)", "error": "\(error)"])
        }
        let (waiter, unused) = lock.withLock { () -> (CheckedContinuation<PythonWorker, any Error>?, PythonWorker?) in
            starting -= 1
            startingIdle -= 1
            if !handOff.isEmpty {
                let waiter = handOff.removeFirst()
                if case .success(let worker) = started { busy[ObjectIdentifier(worker)] = worker }
                return (waiter, nil)
            }
            guard case .success(let worker) = started else { return (nil, nil) }
            guard active, !closed else { return (nil, worker) }
            idle.append((worker, .now))
            return (nil, nil)
        }
        waiter?.resume(with: started)
        if let unused { retire([unused]) }
        notifyWatchers()
    }

    /// Stops idle workers beyond `max(floor, cruise)` once they have been idle for `idleGrace`.
    private func scheduleShrink() {
        let start = lock.withLock { () -> Bool in
            guard !shrinking, idle.count + busy.count > keptWorkers, !idle.isEmpty else { return false }
            shrinking = true
            return true
        }
        guard start else { return }
        Task {
            while true {
                let oldest = lock.withLock { () -> ContinuousClock.Instant? in
                    guard idle.count + busy.count > keptWorkers, let first = idle.first else {
                        shrinking = false
                        return nil
                    }
                    return first.since
                }
                guard let oldest else { return }
                try? await Task.sleep(until: oldest.advanced(by: idleGrace), clock: .continuous)
                let stopped = lock.withLock { () -> [PythonWorker] in
                    var stopped: [PythonWorker] = []
                    while idle.count + busy.count > keptWorkers, let first = idle.first, first.since.advanced(by: idleGrace) <= .now {
                        stopped.append(idle.removeFirst().worker)
                    }
                    return stopped
                }
                retire(stopped)
                if !stopped.isEmpty { notifyWatchers() }
            }
        }
    }

    /// Workers an idle pool keeps (under the lock).
    private var keptWorkers: Int { active && !closed ? max(tuning.floor, tuning.cruise) : 0 }

    private func notifyWatchers() {
        let ready = lock.withLock { () -> [CheckedContinuation<Void, Never>] in
            let count = counts
            let (met, waiting) = (watchers.filter { $0.condition(count) }, watchers.filter { !$0.condition(count) })
            watchers = waiting
            return met.map(\.continuation)
        }
        for continuation in ready { continuation.resume() }
    }
}
