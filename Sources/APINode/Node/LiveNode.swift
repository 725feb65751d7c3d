import DeployerModel
import Foundation

/// `run/apinode.json`: where a running node listens, so that `apinode-admin` goes through its
/// admin API instead of changing files under it.
public struct LiveNode: Codable, Sendable {
    public var url: String
    public var pid: Int32
    /// The PEM certificate the node serves HTTPS with; local admin calls trust exactly it.
    public var certificateFile: String?

    public init(url: String, pid: Int32, certificateFile: String? = nil) {
        self.url = url
        self.pid = pid
        self.certificateFile = certificateFile
    }

    public static func file(in dataDirectory: URL) -> URL { dataDirectory.appendingPathComponent("run/apinode.json") }

    public func write(to file: URL) throws {
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try AtomicFile.write(try JSONEncoder.node.encode(self), to: file)
    }

    /// The node recorded in `dataDirectory`, if its process is still alive.
    public static func running(in dataDirectory: URL) -> LiveNode? {
        guard let data = FileManager.default.contents(atPath: file(in: dataDirectory).path),
            let node = try? JSONDecoder.node.decode(LiveNode.self, from: data), kill(node.pid, 0) == 0
        else { return nil }
        return node
    }
}
