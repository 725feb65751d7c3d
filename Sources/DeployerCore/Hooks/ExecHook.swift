import DeployerModel
import Foundation

/// Runs an `exec` hook: the command with the transition as JSON on standard input. Exit code 0
/// is success; a JSON object on standard output may carry a `message` for the history.
enum ExecHook {
    static let outputLimit = 64 * 1024

    /// A command that exits without reading its input must fail the write, not kill this process
    /// with SIGPIPE: the signal is ignored process-wide (as SwiftNIO does with its first socket,
    /// which a process may not have opened yet), the first time a hook runs.
    private static let ignoresSIGPIPE: Bool = {
        _ = signal(SIGPIPE, SIG_IGN)
        return true
    }()

    static func run(_ exec: Hook.Exec, input: [UInt8]) async -> HookOutcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = exec.command
        var environment = ProcessInfo.processInfo.environment
        for (name, value) in exec.env ?? [:] { environment[name] = value }
        process.environment = environment
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return .failed("cannot start \(exec.command[0]): \(error.localizedDescription)")
        }
        let output = collect(stdout.fileHandleForReading)
        precondition(ignoresSIGPIPE)
        try? stdin.fileHandleForWriting.write(contentsOf: Data(input))
        try? stdin.fileHandleForWriting.close()
        let status = await waitForExit(process, timeout: .seconds(exec.timeoutSeconds))
        let bytes = await output.value
        guard let status else { return .failed("timed out after \(exec.timeoutSeconds)s and was stopped") }
        let message = (try? JSONValue.parse(bytes.prefix(outputLimit)))?["message"]?.stringValue
        if status == 0 { return .succeeded(message) }
        return .failed(message ?? "exited with status \(status)")
    }

    /// Reads a pipe to its end on a thread of its own (a blocking read must not hold a task thread).
    private static func collect(_ handle: FileHandle) -> Task<[UInt8], Never> {
        Task {
            await withCheckedContinuation { continuation in
                Thread.detachNewThread {
                    continuation.resume(returning: [UInt8](handle.readDataToEndOfFile()))
                }
            }
        }
    }

    /// The process's exit status, or nil when the timeout passed first (it is then stopped).
    /// The exit is waited for on a thread of its own with `waitpid` (`waitForExitStatus`), not
    /// through Foundation's SIGCHLD handling, which swift-subprocess may have taken over.
    private static func waitForExit(_ process: Process, timeout: Duration) async -> Int32? {
        let exit = Task {
            await withCheckedContinuation { continuation in
                Thread.detachNewThread { continuation.resume(returning: process.waitForExitStatus()) }
            }
        }
        let status = await withTaskGroup(of: Int32?.self) { group in
            group.addTask { await exit.value }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard status == nil else { return status }
        kill(process.processIdentifier, SIGKILL)
        _ = await exit.value
        return nil
    }
}
