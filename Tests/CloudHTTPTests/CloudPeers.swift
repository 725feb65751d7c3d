import Foundation

/// The Python peers of these tests (botocore, cryptography), run in their pinned environment.
enum CloudPeers {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Runs `Peers/SCRIPT` with the cloud peers' Python; `input` goes to its standard input.
    static func run(_ script: String, _ arguments: [String], input: String? = nil) throws -> String {
        let python = try output(
            "/usr/bin/env", ["bash", repository.appendingPathComponent("hack/python-env.sh").path, repository.appendingPathComponent("hack/requirements-cloud.txt").path]
        ).trimmingCharacters(in: .whitespacesAndNewlines)
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Peers/" + script).path
        return try output(python, [path] + arguments, input: input)
    }

    /// Runs a command to completion and returns its standard output.
    static func output(_ executable: String, _ arguments: [String], input: String? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        let stdin = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        try process.run()
        if let input {
            try stdin.fileHandleForWriting.write(contentsOf: Data(input.utf8))
            try stdin.fileHandleForWriting.close()
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw PeerFailure("\(executable) \(arguments) exited with \(process.terminationStatus)") }
        return String(decoding: data, as: UTF8.self)
    }
}

struct PeerFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
