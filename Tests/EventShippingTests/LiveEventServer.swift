import DeployerModel
import Foundation
import Logging
import ServiceLifecycle

@testable import EventServer

/// A real event server on a loopback port, in this process, that a test can stop and start
/// again on the same port (an outage).
final class LiveEventServer: Sendable {
    let root: URL
    let config: EventServerConfig

    init(root: URL, config: EventServerConfig = EventServerConfig()) {
        self.root = root
        self.config = config
    }

    /// A running server: its URL and the task that serves it.
    struct Running {
        let url: String
        let group: ServiceGroup
        let task: Task<Void, any Error>

        func stop() async {
            await group.triggerGracefulShutdown()
            _ = await task.result
        }
    }

    /// Starts serving on `port` (0 picks a free one) and returns once it listens; throws when
    /// the server cannot start (the port is taken) instead of waiting for it forever.
    func start(port: Int = 0) async throws -> Running {
        let (listening, continuation) = AsyncStream.makeStream(of: String.self)
        let services = try EventServerAssembly.services(
            root: root, config: config, host: "127.0.0.1", port: port, logger: Logger(label: "test.eventserver")
        ) { url in
            continuation.yield(url)
        }
        let group = ServiceGroup(services: services, logger: Logger(label: "test.eventserver"))
        let task = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        var iterator = listening.makeAsyncIterator()
        guard let url = await iterator.next() else {
            try await task.value
            throw CocoaError(.fileReadUnknown)
        }
        return Running(url: url, group: group, task: task)
    }

    /// The stored events of one topic and routing key, in stored order.
    func events(topic: String, routingKey: String) throws -> [JSONValue] {
        let base = root.appendingPathComponent("\(topic)/\(routingKey)")
        guard let walker = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else { return [] }
        var files: [(folder: String, sequence: Int, url: URL)] = []
        for case let url as URL in walker {
            if let sequence = EventFile.sequence(of: url.lastPathComponent) { files.append((url.deletingLastPathComponent().path, sequence, url)) }
        }
        var events: [JSONValue] = []
        for file in files.sorted(by: { ($0.folder, $0.sequence) < ($1.folder, $1.sequence) }) {
            let content = file.url.pathExtension == "gz" ? try EventFileCompressor.decompress(file.url.path) : Array(try Data(contentsOf: file.url))
            for line in content.split(separator: UInt8(ascii: "\n")) {
                events.append(try JSONValue.parse(line)["clientEvent"] ?? .null)
            }
        }
        return events
    }
}
