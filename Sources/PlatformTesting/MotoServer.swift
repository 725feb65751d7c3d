import CloudHTTP
import DeployerModel
import Foundation

/// moto's server as a child process (`Peers/moto_server.py`) on loopback with SigV4 checking
/// on: its URL and the credentials of the user it created before switching authentication on.
/// It stops when its input closes.
public struct MotoServer: Sendable {
    public let url: String
    public let accessKeyID: String
    public let secret: String

    /// A client signed with the server's user (or with `secret` instead, to be refused).
    public func client(secret: String? = nil, region: String = "us-east-1") -> AWSClient {
        AWSClient(
            credentials: SigV4Signer.Credentials(accessKeyID: accessKeyID, secretAccessKey: secret ?? self.secret), region: region,
            endpointOverride: url, http: .shared)
    }

    /// Runs `body` with a fresh server.
    public static func with(_ body: (MotoServer) async throws -> Void) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try CloudPython.interpreter())
        process.arguments = [URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Peers/moto_server.py").path]
        let output = Pipe()
        let input = Pipe()
        process.standardOutput = output
        process.standardInput = input
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            try? input.fileHandleForWriting.close()
            _ = process.waitForExitStatus()
        }
        let line = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var bytes: [UInt8] = []
                while !bytes.contains(UInt8(ascii: "\n")) {
                    let chunk = output.fileHandleForReading.availableData
                    if chunk.isEmpty { break }
                    bytes.append(contentsOf: chunk)
                }
                continuation.resume(returning: Array(bytes.prefix { $0 != UInt8(ascii: "\n") }))
            }
        }
        let started = try JSONValue.parse(line)
        guard let url = started["url"]?.stringValue, let key = started["accessKeyId"]?.stringValue, let secret = started["secretAccessKey"]?.stringValue
        else { throw CloudPython.Failure("moto did not start: \(String(decoding: line, as: UTF8.self))") }
        try await body(MotoServer(url: url, accessKeyID: key, secret: secret))
    }
}

/// The pinned Python environment of the cloud peers (botocore, boto3, moto, cryptography).
public enum CloudPython {
    public static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The environment's interpreter, created on first use by `hack/python-env.sh`.
    public static func interpreter() throws -> String {
        try output(
            "/usr/bin/env",
            ["bash", repository.appendingPathComponent("hack/python-env.sh").path, repository.appendingPathComponent("hack/requirements-cloud.txt").path]
        ).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs a command to completion and returns its standard output.
    public static func output(_ executable: String, _ arguments: [String], input: String? = nil) throws -> String {
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
        guard process.waitForExitStatus() == 0 else { throw Failure("\(executable) \(arguments) exited with \(process.terminationStatus)") }
        return String(decoding: data, as: UTF8.self)
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }
}
