import DeployerModel
import Foundation
import Subprocess

/// Runs an `exec` hook: the command with the transition as JSON on standard input. Exit code 0
/// is success; a JSON object on standard output may carry a `message` for the history. Started
/// with swift-subprocess, like every other child process of the deployer and the node: mixing it
/// with Foundation's `Process` in one process loses exits where the kernel has no pidfd
/// `waitid` (swift-subprocess then takes over SIGCHLD, and `Process` never hears of its child).
enum ExecHook {
    static let outputLimit = 64 * 1024

    /// How a command ended and what it printed.
    struct Finished: Sendable {
        let exitCode: Int32?
        let status: String
        let output: String
    }

    static func run(_ exec: Hook.Exec, input: [UInt8]) async -> HookOutcome {
        let environment = Dictionary(uniqueKeysWithValues: (exec.env ?? [:]).map { (Environment.Key(stringLiteral: $0.key), Optional($0.value)) })
        let command = exec.command
        let outcome = await withTaskGroup(of: Result<Finished, any Error>?.self) { group in
            group.addTask {
                do {
                    // A command that exits without reading its input fails the write (EPIPE).
                    let result = try await Subprocess.run(
                        .path("/usr/bin/env"), arguments: .init(command), environment: .inherit.updating(environment), input: .array(input),
                        output: .string(limit: 1 << 20), error: .discarded)
                    var code: Int32?
                    if case .exited(let value) = result.terminationStatus { code = value }
                    return .success(Finished(exitCode: code, status: "\(result.terminationStatus)", output: result.standardOutput))
                } catch {
                    return .failure(error)
                }
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(exec.timeoutSeconds))
                return nil
            }
            // The first to finish wins; cancelling the run stops the command (SIGKILL).
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        switch outcome {
        case nil:
            return .failed("timed out after \(exec.timeoutSeconds)s and was stopped")
        case .failure(let error)?:
            return .failed("cannot run \(command[0]): \(error)")
        case .success(let finished)?:
            let message = (try? JSONValue.parse(Array(finished.output.utf8.prefix(outputLimit))))?["message"]?.stringValue
            if finished.exitCode == 0 { return .succeeded(message) }
            return .failed(message ?? finished.exitCode.map { "exited with status \($0)" } ?? "ended with \(finished.status)")
        }
    }
}
