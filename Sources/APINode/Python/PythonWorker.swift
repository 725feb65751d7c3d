import DeployerModel
import Foundation
import Logging
import Subprocess

/// How to start the workers of one Python endpoint.
public struct PythonLaunch: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case function
        case prediction = "python-prediction"
    }

    /// The interpreter: the node's Python, or the code environment's.
    public var python: String
    public var kind: Kind
    /// The code file, absolute.
    public var file: String
    /// The function (`function`) or class (`python-prediction`) to load.
    public var name: String
    /// Class labels from the manifest, used when the model names none.
    public var classes: [String]?
    /// The package's folder: the worker's working directory.
    public var packageFolder: String
    /// Where the worker script (`worker.py`) lives.
    public var workerFolder: String

    var specification: String {
        var spec: JSONValue = ["kind": .string(kind.rawValue), "file": .string(file)]
        spec[kind == .function ? "function" : "class"] = .string(name)
        if let classes { spec["classes"] = .array(classes.map { .string($0) }) }
        return String(decoding: spec.serialized(sortingKeys: true), as: UTF8.self)
    }
}

/// Why a call to a worker did not give a value.
public enum PythonCallError: Error, Sendable, Equatable {
    /// The code raised; the worker lives on.
    case exception(type: String, message: String)
    /// The worker process ended during the call.
    case crashed(String)
    /// The call ran past the endpoint's timeout; the worker was killed.
    case timedOut(Duration)
}

/// The code could not be loaded: the import's answer.
public struct PythonLoadError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// One Python worker process: loads the endpoint's code once, then answers one call at a time
/// over framed pipes. A worker is used by one query at a time (its pool sees to that).
final class PythonWorker: @unchecked Sendable {
    private let lock = NSLock()
    private var frames = WorkerFrames()
    /// The call (or the start) waiting for the next frame.
    private var waiting: CheckedContinuation<[UInt8], any Error>?
    private var arrived: [[UInt8]] = []
    private var ended: String?
    private var processID: pid_t?
    private var killedForTimeout = false
    private let requests: AsyncStream<[UInt8]>.Continuation
    private let requestStream: AsyncStream<[UInt8]>
    private var process: Task<Void, Never>?

    private init() {
        (requestStream, requests) = AsyncStream.makeStream()
    }

    /// How long loading an endpoint's code may take.
    static let loadTimeout = Duration.seconds(120)

    /// Starts a worker and waits until its code is loaded; throws `PythonLoadError` with the
    /// code's error when it cannot be, or when loading takes longer than `loadTimeout`.
    static func start(_ launch: PythonLaunch, logger: Logger) async throws -> PythonWorker {
        let worker = PythonWorker()
        worker.process = Task { await worker.run(launch, logger: logger) }
        let watchdog = Task {
            try await Task.sleep(for: loadTimeout)
            worker.kill(forTimeout: true)
        }
        defer { watchdog.cancel() }
        let ready: JSONValue
        do {
            ready = try JSONValue.parse(try await worker.nextFrame())
        } catch {
            worker.stop()
            let reason = worker.lock.withLock { worker.killedForTimeout } ? "the code did not load within \(loadTimeout)" : "\(error)"
            throw PythonLoadError(message: "the worker did not start: \(reason)")
        }
        guard ready["ready"] == .bool(true) else {
            worker.stop()
            let type = ready["type"]?.stringValue ?? "Error"
            throw PythonLoadError(message: "\(type): \(ready["message"]?.stringValue ?? "")\n\(ready["traceback"]?.stringValue ?? "")")
        }
        return worker
    }

    /// Sends one request and waits for its answer; kills the worker past `timeout`.
    func call(_ request: JSONValue, timeout: Duration) async throws -> JSONValue {
        requests.yield(WorkerFrames.frame(request))
        let watchdog = Task {
            try await Task.sleep(for: timeout)
            self.kill(forTimeout: true)
        }
        defer { watchdog.cancel() }
        let payload: [UInt8]
        do {
            payload = try await nextFrame()
        } catch {
            if lock.withLock({ killedForTimeout }) { throw PythonCallError.timedOut(timeout) }
            throw error
        }
        let answer = try JSONValue.parse(payload)
        if answer["ok"] == .bool(true) { return answer["value"] ?? .null }
        throw PythonCallError.exception(type: answer["type"]?.stringValue ?? "Error", message: answer["message"]?.stringValue ?? "")
    }

    /// Whether the process has ended.
    var hasEnded: Bool { lock.withLock { ended != nil } }

    /// The worker's process id while it runs.
    var pid: pid_t? { lock.withLock { ended == nil ? processID : nil } }

    /// Ends the worker: closes its input (it exits at once when idle) and kills it if it runs.
    func stop() {
        requests.finish()
        kill(forTimeout: false)
    }

    /// Waits until the process has been reaped.
    func waitUntilEnded() async { await process?.value }

    private func kill(forTimeout: Bool) {
        lock.withLock {
            guard ended == nil, let processID else { return }
            if forTimeout { killedForTimeout = true }
            _ = Foundation.kill(processID, SIGKILL)
        }
    }

    private func nextFrame() async throws -> [UInt8] {
        try await withCheckedThrowingContinuation { continuation in
            let immediate: Result<[UInt8], any Error>? = lock.withLock {
                if !arrived.isEmpty { return .success(arrived.removeFirst()) }
                if let ended { return .failure(PythonCallError.crashed(ended)) }
                waiting = continuation
                return nil
            }
            if let immediate { continuation.resume(with: immediate) }
        }
    }

    private func deliver(_ bytes: some Collection<UInt8>) {
        let resume: (CheckedContinuation<[UInt8], any Error>, [UInt8])? = lock.withLock {
            frames.append(bytes)
            do {
                while let frame = try frames.next() { arrived.append(frame) }
            } catch {
                ended = ended ?? "\(error)"
                if let processID { _ = Foundation.kill(processID, SIGKILL) }
            }
            guard let waiting, !arrived.isEmpty else { return nil }
            self.waiting = nil
            return (waiting, arrived.removeFirst())
        }
        if let (continuation, frame) = resume { continuation.resume(returning: frame) }
    }

    private func finish(_ reason: String) {
        let waiter: CheckedContinuation<[UInt8], any Error>? = lock.withLock {
            ended = ended ?? reason
            defer { waiting = nil }
            return waiting
        }
        waiter?.resume(throwing: PythonCallError.crashed(lock.withLock { ended ?? reason }))
    }

    private func run(_ launch: PythonLaunch, logger: Logger) async {
        do {
            let result = try await Subprocess.run(
                PythonEnvironments.executable(launch.python), arguments: [Self.script(in: launch.workerFolder), launch.specification],
                environment: .inherit.updating([
                    "PYTHONPATH": launch.workerFolder, "APIDEPLOYER_PACKAGE_DIR": launch.packageFolder, "PYTHONUNBUFFERED": "1",
                ]),
                workingDirectory: .init(launch.packageFolder),
                input: .inputWriter, output: .sequence, error: .currentStandardError
            ) { execution in
                lock.withLock { processID = execution.processIdentifier.value }
                try await withThrowingTaskGroup { group in
                    group.addTask {
                        for try await buffer in execution.standardOutput {
                            buffer.withUnsafeBytes { self.deliver($0) }
                        }
                        // The process is gone (or closed its output): no more requests.
                        self.requests.finish()
                    }
                    for await request in requestStream {
                        do {
                            _ = try await execution.standardInputWriter.write(request)
                        } catch {
                            break  // the process ended; its status answers the call
                        }
                    }
                    try? await execution.standardInputWriter.finish()
                    try await group.waitForAll()
                }
            }
            finish(Self.describe(result.terminationStatus))
        } catch {
            logger.error("python worker failed", metadata: ["file": "\(launch.file)", "error": "\(error)"])
            finish("the worker could not run: \(error)")
        }
    }

    static func script(in folder: String) -> String { folder + "/apideployer/worker.py" }

    private static func describe(_ status: TerminationStatus) -> String {
        switch status {
        case .exited(let code): "the worker exited with status \(code)"
        case .signaled(let signal): "the worker was killed by signal \(signal)"
        }
    }
}
