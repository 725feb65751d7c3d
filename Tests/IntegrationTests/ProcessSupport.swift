import CloudHTTP
import DeployerModel
import Foundation

/// Where the built products are (next to the test bundle).
enum Products {
    static let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    static let apideployer = directory.appendingPathComponent("apideployer").path
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}

/// The result of a finished command.
struct CommandResult {
    let status: Int32
    let output: String
    let errors: String
}

/// A child process. Standard output is drained by a blocking reader thread (so the child never
/// blocks on a full pipe, and waiters are woken by the bytes themselves); errors go to a file.
final class ChildProcess: @unchecked Sendable {
    let process = Process()
    let errorURL: URL
    private let lock = NSLock()
    private var collected = ""
    private var collectedErrors: String?
    private var isClosed = false
    private var waiters: [(marker: String, continuation: CheckedContinuation<String, any Error>)] = []
    private var closeWaiters: [CheckedContinuation<Void, Never>] = []

    init(_ executable: String, _ arguments: [String], environment: [String: String] = [:], directory: URL, input: Data? = nil) throws {
        errorURL = directory.appendingPathComponent("err-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: errorURL.path, contents: nil)
        let pipe = Pipe()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.currentDirectoryURL = directory
        process.standardOutput = pipe
        process.standardError = try FileHandle(forWritingTo: errorURL)
        let inputPipe = input.map { _ in Pipe() }
        process.standardInput = inputPipe ?? FileHandle.nullDevice
        precondition(Self.ignoresSIGPIPE)
        try process.run()
        if let input, let inputPipe {
            // A child that exits without reading its input shows it in its status and output.
            try? inputPipe.fileHandleForWriting.write(contentsOf: input)
            try? inputPipe.fileHandleForWriting.close()
        }
        let reader = pipe.fileHandleForReading
        Thread.detachNewThread { [self] in
            while true {
                let data = reader.availableData
                if data.isEmpty { break }
                append(String(decoding: data, as: UTF8.self))
            }
            close()
        }
    }

    /// Writing input to a child that already exited must fail the write, not kill the test
    /// process (SwiftNIO ignores SIGPIPE too, but only once it opens its first socket).
    private static let ignoresSIGPIPE: Bool = {
        _ = Glibc.signal(SIGPIPE, SIG_IGN)
        return true
    }()

    private func append(_ text: String) {
        let (ready, snapshot) = lock.withLock { () -> ([CheckedContinuation<String, any Error>], String) in
            collected += text
            // Only the new text (and a marker's length before it) can hold a marker not seen
            // before: long outputs are not searched again and again.
            func isIn(_ marker: String) -> Bool { collected.utf8.suffix(text.utf8.count + marker.utf8.count).firstRange(of: marker.utf8) != nil }
            let found = waiters.filter { isIn($0.marker) }
            guard !found.isEmpty else { return ([], "") }
            waiters.removeAll { isIn($0.marker) }
            return (found.map(\.continuation), collected)
        }
        for continuation in ready { continuation.resume(returning: snapshot) }
    }

    private func close() {
        let (pending, closing) = lock.withLock { () -> ([CheckedContinuation<String, any Error>], [CheckedContinuation<Void, Never>]) in
            isClosed = true
            defer {
                waiters = []
                closeWaiters = []
            }
            return (waiters.map(\.continuation), closeWaiters)
        }
        for continuation in closing { continuation.resume() }
        let errors = (try? String(contentsOf: errorURL, encoding: .utf8)) ?? ""
        for continuation in pending { continuation.resume(throwing: CLIFailure("process ended before printing the expected line: \(output) \(errors)")) }
    }

    /// Everything printed so far.
    var output: String { lock.withLock { collected } }

    /// Waits until the output contains `marker`; returns the output so far.
    func waitForOutput(containing marker: String) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            let immediate: Result<String, any Error>? = lock.withLock {
                if collected.contains(marker) { return .success(collected) }
                if isClosed { return .failure(CLIFailure("process ended: \(collected)")) }
                waiters.append((marker, continuation))
                return nil
            }
            if let immediate { continuation.resume(with: immediate) }
        }
    }

    var isRunning: Bool { process.isRunning }

    /// Waits for exit without blocking the cooperative pool.
    func finish() async -> CommandResult {
        let process = self.process
        let status = await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            DispatchQueue.global().async { continuation.resume(returning: process.waitForExitStatus()) }
        }
        await waitForClose()
        // The error file is read once and removed (a child may run in the repository's folder).
        let errors = lock.withLock {
            if let collectedErrors { return collectedErrors }
            let text = (try? String(contentsOf: errorURL, encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(at: errorURL)
            collectedErrors = text
            return text
        }
        return CommandResult(status: status, output: output, errors: errors)
    }

    func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    var pid: Int32 { process.processIdentifier }

    /// SIGTERM, then waits; a process still running after 30 s is reported and killed, so a
    /// shutdown that hangs shows up instead of holding the whole test run.
    func terminate() async -> CommandResult {
        signal(SIGTERM)
        let watchdog = Task { [self] in
            try await Task.sleep(for: .seconds(30))
            print("ChildProcess: \(process.executableURL?.lastPathComponent ?? "?") still running 30 s after SIGTERM; killing it")
            signal(SIGKILL)
        }
        let result = await finish()
        watchdog.cancel()
        return result
    }

    /// Waits until standard output is closed (the reader saw end of file).
    private func waitForClose() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let closed = lock.withLock {
                if !isClosed { closeWaiters.append(continuation) }
                return isClosed
            }
            if closed { continuation.resume() }
        }
    }
}

/// Runs a command to completion, with `input` on its standard input.
func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:], in directory: URL, input: String? = nil) async throws
    -> CommandResult
{
    try await ChildProcess(executable, arguments, environment: environment, directory: directory, input: input.map { Data($0.utf8) }).finish()
}

/// A temporary folder removed by `remove()`.
struct Scratch {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("apideployer-it-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(at: url) }
}

extension Result where Failure == any Error {
    /// The outcome of an async body, kept so that clean-up can run before it is rethrown.
    init(catching body: () async throws -> Success) async {
        do {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}
