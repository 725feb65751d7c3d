import DeployerModel
import Foundation
import Logging
import PostgresNIO

/// A PostgreSQL server named in the node's configuration; its credentials stay there.
public struct PostgresConnectionSettings: Codable, Sendable, Equatable {
    public var host: String
    public var port: Int?
    public var user: String
    public var password: String?
    public var database: String
    /// Connections the node opens to it at most (shared by every endpoint that names it).
    public var maximumConnections: Int?

    public init(host: String, port: Int? = nil, user: String, password: String? = nil, database: String, maximumConnections: Int? = nil) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.maximumConnections = maximumConnections
    }
}

/// The node's pooled PostgreSQL clients, one per configured connection, started on first use
/// and stopped with the node.
public final class PostgresConnections: @unchecked Sendable {
    private let lock = NSLock()
    private let settings: [String: PostgresConnectionSettings]
    private var clients: [String: (client: PostgresClient, task: Task<Void, Never>)] = [:]
    let logger: Logger

    public init(settings: [String: PostgresConnectionSettings], logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    /// Whether `name` is configured.
    func has(_ name: String) -> Bool { settings[name] != nil }

    /// The pooled client of connection `name`.
    func client(_ name: String) throws -> PostgresClient {
        try lock.withLock {
            if let existing = clients[name] { return existing.client }
            guard let settings = settings[name] else { throw SQLEndpointError(message: "connection \"\(name)\" is not configured on this node") }
            var configuration = PostgresClient.Configuration(
                host: settings.host, port: settings.port ?? 5432, username: settings.user, password: settings.password,
                database: settings.database, tls: .disable)
            configuration.options.maximumConnections = max(1, settings.maximumConnections ?? 8)
            let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
            clients[name] = (client, Task { await client.run() })
            return client
        }
    }

    /// Runs `body` on a new connection of its own (no pool, no retry): for checks that must
    /// fail fast when the server cannot be reached.
    func withSingleConnection<T: Sendable>(_ name: String, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        guard let settings = settings[name] else { throw SQLEndpointError(message: "connection \"\(name)\" is not configured on this node") }
        var configuration = PostgresConnection.Configuration(
            host: settings.host, port: settings.port ?? 5432, username: settings.user, password: settings.password,
            database: settings.database, tls: .disable)
        configuration.options.connectTimeout = .seconds(5)
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
        do {
            let result = try await body(connection)
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// Closes every client's connections.
    public func shutdown() async {
        let running = lock.withLock { () -> [Task<Void, Never>] in
            defer { clients.removeAll() }
            return clients.values.map(\.task)
        }
        for task in running { task.cancel() }
        for task in running { await task.value }
    }
}
