import CloudHTTP
import Foundation

/// `apideployer serve` started for the benchmark, on a free port.
final class ServerUnderTest: @unchecked Sendable {
    let process = Process()
    let kubeconfig: String

    static func start(binary: String, directory: URL) throws -> ServerUnderTest {
        let server = ServerUnderTest(directory: directory)
        let pipe = Pipe()
        server.process.executableURL = URL(fileURLWithPath: binary)
        server.process.arguments = ["serve", "--data-dir", directory.path, "--port", "0"]
        server.process.standardOutput = pipe
        server.process.standardError = FileHandle.nullDevice
        try server.process.run()
        var text = ""
        while !text.contains("serving on") {
            let data = pipe.fileHandleForReading.availableData
            if data.isEmpty { throw BenchError("server did not start") }
            text += String(decoding: data, as: UTF8.self)
        }
        return server
    }

    private init(directory: URL) {
        kubeconfig = directory.appendingPathComponent("kubeconfig").path
    }

    func client(connections: Int) throws -> KubeClient {
        try KubeClient(kubeconfig: try KubeconfigLoader.load(path: kubeconfig), maximumConnections: connections)
    }

    /// Resident memory from /proc, in MB.
    var residentMB: Double {
        let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs `total` jobs on `workers` concurrent tasks; returns elapsed seconds.
func timed(total: Int, workers: Int, _ job: @escaping @Sendable (Int) async throws -> Void) async throws -> Double {
    let start = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for worker in 0..<workers {
            group.addTask {
                var index = worker
                while index < total {
                    try await job(index)
                    index += workers
                }
            }
        }
        try await group.waitForAll()
    }
    return (ContinuousClock.now - start).seconds
}

extension Duration {
    /// The duration in seconds, as a floating-point number.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

func percentile(_ values: [Double], _ fraction: Double) -> Double {
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
}
