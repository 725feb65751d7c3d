import DeployerModel
import Foundation

/// `config.json` of a node data directory: settings every command on the directory shares
/// (the server and the offline `apinode-admin` alike), written by `node init`.
public struct NodeConfiguration: Codable, Sendable, Equatable {
    /// The Python interpreter of Python endpoints; code environments are built from it.
    public var python: String
    /// PostgreSQL servers that SQL query endpoints name by `sql.connection`.
    public var postgres: [String: PostgresConnectionSettings]?

    public init(python: String = "python3", postgres: [String: PostgresConnectionSettings]? = nil) {
        self.python = python
        self.postgres = postgres
    }

    public static func file(in dataDirectory: URL) -> URL { dataDirectory.appendingPathComponent("config.json") }

    /// The directory's configuration (the defaults when it has none); errors name the file.
    public static func load(from dataDirectory: URL) throws -> NodeConfiguration {
        let file = file(in: dataDirectory)
        guard let data = FileManager.default.contents(atPath: file.path) else { return NodeConfiguration() }
        do {
            return try JSONDecoder.node.decode(NodeConfiguration.self, from: data)
        } catch {
            throw NodeError.invalid("\(file.path) is not a valid node configuration: \(error)")
        }
    }

    public func write(to dataDirectory: URL) throws {
        try AtomicFile.write(try JSONEncoder.node.encode(self), to: Self.file(in: dataDirectory), permissions: 0o600)
    }
}
