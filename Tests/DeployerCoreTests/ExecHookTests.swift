import DeployerModel
import Foundation
import Testing

@testable import DeployerCore

/// An exec hook that exits without reading its input fails the hook; it must not take the
/// process down with SIGPIPE (run alone, this process has opened no socket that would have
/// made SwiftNIO ignore the signal).
@Suite struct ExecHookTests {
    @Test func aCommandThatExitsWithoutReadingItsInputFailsTheHookOnly() async throws {
        let document: JSONValue = ["command": ["/bin/sh", "-c", "exit 3"], "timeoutSeconds": 30]
        let exec = try document.decode(Hook.Exec.self)
        let outcome = await ExecHook.run(exec, input: Array(repeating: UInt8(ascii: "x"), count: 4 << 20))
        #expect(outcome == .failed("exited with status 3"))
    }
}
