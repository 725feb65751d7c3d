import DeployerTesting
import Foundation
import Logging
import Testing

@testable import ReconcileKit

/// A reconciler whose answers the test scripts per key, recording what it saw.
final class ScriptedReconciler: Reconciler, @unchecked Sendable {
    enum Step {
        case succeed
        case fail
        case stop
        case requeue(Duration)
    }

    private let lock = NSLock()
    private var steps: [String: [Step]]
    private(set) var attempts: [(key: String, attempt: ReconcileAttempt)] = []
    private var running: [String: Int] = [:]
    private(set) var mostAtOnceOnOneKey = 0

    init(_ steps: [String: [Step]]) { self.steps = steps }

    func reconcile(_ key: String, attempt: ReconcileAttempt) async throws -> ReconcileResult {
        let step: Step = lock.withLock {
            attempts.append((key, attempt))
            running[key, default: 0] += 1
            mostAtOnceOnOneKey = max(mostAtOnceOnOneKey, running[key]!)
            return steps[key]?.isEmpty == false ? steps[key]!.removeFirst() : .succeed
        }
        await Task.yield()
        lock.withLock { running[key, default: 0] -= 1 }
        switch step {
        case .succeed: return .done
        case .fail: throw CancellationError()
        case .stop: throw TerminalError(reason: "InvalidSpec", message: "cannot be fixed by retrying")
        case .requeue(let delay): return .requeue(after: delay)
        }
    }

    var keysSeen: [String] { lock.withLock { attempts.map(\.key) } }
}

@Suite struct ControllerTests {
    func controller(_ reconciler: ScriptedReconciler, clock: ManualClock, workers: Int = 1) -> Controller<ManualClock> {
        Controller(
            name: "test", reconciler: reconciler, queue: WorkQueue(clock: clock, rateLimiter: ExponentialFailureRateLimiter()),
            workers: workers, logger: Logger(label: "test"))
    }

    @Test func errorsRetryWithBackoffAndSuccessForgetsTheFailures() async {
        let clock = ManualClock()
        let reconciler = ScriptedReconciler(["k": [.fail, .fail, .succeed]])
        let controller = controller(reconciler, clock: clock)
        controller.queue.add("k")
        await controller.process(await controller.queue.next()!)
        controller.queue.done("k")
        #expect(controller.queue.failures(of: "k") == 1)
        await clock.advance(by: .milliseconds(5))
        await controller.process(await controller.queue.next()!)
        controller.queue.done("k")
        await clock.advance(by: .milliseconds(10))
        await controller.process(await controller.queue.next()!)
        controller.queue.done("k")
        #expect(controller.queue.failures(of: "k") == 0, "success forgets")
        #expect(reconciler.attempts.map(\.attempt.retries) == [0, 1, 2])
        #expect(Set(reconciler.attempts.map(\.attempt.reconcileID)).count == 3, "a fresh id per attempt")
        #expect(controller.queue.depth == 0)
    }

    @Test func aTerminalErrorIsNotRetriedAndRequeueAfterComesBackWithoutCountingAFailure() async {
        let clock = ManualClock()
        let reconciler = ScriptedReconciler(["bad": [.stop], "waiting": [.requeue(.seconds(30))]])
        let controller = controller(reconciler, clock: clock)
        controller.queue.add("bad")
        controller.queue.add("waiting")
        for _ in 0..<2 {
            let key = await controller.queue.next()!
            await controller.process(key)
            controller.queue.done(key)
        }
        #expect(controller.queue.failures(of: "bad") == 0 && controller.queue.failures(of: "waiting") == 0)
        await clock.advance(by: .seconds(30))
        #expect(await controller.queue.next() == "waiting", "only the waiting key comes back")
        #expect(controller.queue.depth == 0)
    }

    @Test func workersNeverShareAKeyAndMergeRepeatedAdds() async throws {
        let clock = ManualClock()
        let reconciler = ScriptedReconciler([:])
        let controller = controller(reconciler, clock: clock, workers: 4)
        for _ in 0..<10 { for index in 0..<5 { controller.queue.add("key\(index)") } }
        #expect(controller.queue.depth == 5, "adds of a queued key are merged")
        let running = Task { try await controller.run() }
        for round in 0..<200 {
            controller.queue.add("key\(round % 5)")
            await Task.yield()
        }
        // Drain what is queued (a key added while processing is queued again by done).
        while controller.queue.depth > 0 || reconciler.keysSeen.count < 5 { await Task.yield() }
        controller.queue.shutDown()
        try await running.value
        #expect(reconciler.mostAtOnceOnOneKey == 1, "one key, one worker at a time")
        #expect(Set(reconciler.keysSeen) == Set((0..<5).map { "key\($0)" }))
    }
}
