import Foundation
import PlatformTesting

/// The Python peers of these tests (botocore, cryptography), run in their pinned environment.
enum CloudPeers {
    /// Runs `Peers/SCRIPT` with the cloud peers' Python; `input` goes to its standard input.
    static func run(_ script: String, _ arguments: [String], input: String? = nil) throws -> String {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Peers/" + script).path
        return try CloudPython.output(try CloudPython.interpreter(), [path] + arguments, input: input)
    }
}
