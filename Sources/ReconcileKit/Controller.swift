import Foundation
import Logging
import Metrics
import ServiceLifecycle

/// Runs a `Reconciler` over a work queue with `workers` concurrent workers (never two on one
/// key), mapping each outcome the way controller-runtime does: success forgets the key's
/// failures; an error re-adds it rate-limited; a `TerminalError` forgets it until it changes;
/// `.requeue(after:)` forgets its failures and re-adds it after the delay. Metrics:
/// `reconcile_total{controller,result}`, `reconcile_duration_seconds{controller}`,
/// `reconcile_queue_depth{controller}`, `reconcile_retries_total{controller}`.
public struct Controller<C: Clock>: Service where C.Duration == Duration {
    public let name: String
    public let queue: WorkQueue<C>
    let reconciler: any Reconciler
    let workers: Int
    let logger: Logger
    private let outcomes: [Outcome: Counter]
    private let retries: Counter
    private let duration: Timer
    private let depth: Gauge

    public init(name: String, reconciler: any Reconciler, queue: WorkQueue<C>, workers: Int = 1, logger: Logger) {
        self.name = name
        self.reconciler = reconciler
        self.queue = queue
        self.workers = max(1, workers)
        self.logger = logger
        outcomes = Dictionary(uniqueKeysWithValues: Outcome.allCases.map {
            ($0, Counter(label: "reconcile_total", dimensions: [("controller", name), ("result", $0.rawValue)]))
        })
        retries = Counter(label: "reconcile_retries_total", dimensions: [("controller", name)])
        duration = Timer(label: "reconcile_duration_seconds", dimensions: [("controller", name)])
        depth = Gauge(label: "reconcile_queue_depth", dimensions: [("controller", name)])
    }

    /// Works until graceful shutdown: then no new key is started, and keys in progress finish.
    public func run() async throws {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<workers { group.addTask { await work() } }
            }
        } onGracefulShutdown: {
            queue.shutDown()
        }
    }

    private func work() async {
        while let key = await queue.next() {
            await process(key)
            queue.done(key)
        }
    }

    /// One attempt at `key`, and what the queue does next.
    func process(_ key: String) async {
        let attempt = ReconcileAttempt(reconcileID: UUID().uuidString.lowercased(), retries: queue.failures(of: key))
        let started = ContinuousClock.now
        let outcome: Outcome
        do {
            switch try await reconciler.reconcile(key, attempt: attempt) {
            case .done:
                queue.forget(key)
                outcome = .success
            case .requeue(let delay):
                queue.forget(key)
                queue.add(key, after: delay)
                outcome = .requeueAfter
            }
        } catch let error as TerminalError {
            queue.forget(key)
            outcome = .terminalError
            logger.warning("reconcile stopped", metadata: ["key": "\(key)", "reconcileID": "\(attempt.reconcileID)", "reason": "\(error.reason)"])
        } catch {
            queue.addRateLimited(key)
            outcome = .error
            retries.increment()
            logger.info("reconcile failed; retrying with backoff", metadata: [
                "key": "\(key)", "reconcileID": "\(attempt.reconcileID)", "retries": "\(attempt.retries + 1)", "error": "\(error)",
            ])
        }
        outcomes[outcome]?.increment()
        duration.recordInterval(since: started)
        depth.record(queue.depth)
    }
}

/// How one attempt ended (the `result` label of `reconcile_total`).
enum Outcome: String, CaseIterable {
    case success
    case requeueAfter = "requeue_after"
    case terminalError = "terminal_error"
    case error
}

extension Timer {
    /// Records the time passed since `start`.
    func recordInterval(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }
}
