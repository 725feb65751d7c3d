import APINode
import DeployerModel
import Foundation
import Testing

/// SQL query endpoints on a real PostgreSQL server (hack/postgres.sh starts it), through a
/// connection named in the node's configuration.
@Suite struct PostgresEndpointTests {
    static let manifest = """
        apiVersion: apideployer.dev/v1alpha1
        kind: ServicePackage
        service: crm
        version: v1
        endpoints:
          - id: customer-by-email
            type: sql-query
            sql:
              connection: crm
              query: "SELECT id, name, plan, score, active FROM customers WHERE email = :email ORDER BY id"
              parameters: [{name: email, type: string}]
          - id: label
            type: sql-query
            sql:
              connection: crm
              query: "SELECT name || ':suffix' AS label, :factor::float * score AS scaled FROM customers WHERE id = :id -- :ignored"
              parameters: [{name: id, type: int}, {name: factor, type: float}]
          - id: set-plan
            type: sql-query
            sql:
              connection: crm
              query: "UPDATE customers SET plan = :plan WHERE active = :active"
              parameters: [{name: plan, type: string}, {name: active, type: boolean}]
        """

    /// A fresh database with a `customers` table; returns the node configuration naming it and
    /// the server's port.
    static func database() async throws -> (NodeConfiguration, String) {
        let port = try shell("bash", [PackageTests.repository.appendingPathComponent("hack/postgres.sh").path])
        let name = "test_\(UUID().uuidString.prefix(8).lowercased())"
        _ = try shell("psql", psql(port, "postgres") + ["-c", "CREATE DATABASE \(name)"])
        _ = try shell("psql", psql(port, name) + ["-c", """
            CREATE TABLE customers (id int PRIMARY KEY, email text, name text, plan text, score numeric, active boolean);
            INSERT INTO customers VALUES (1, 'ada@example.com', 'Ada', 'pro', 0.5, true), (2, 'bob@example.com', 'Bob', 'free', NULL, false);
            """])
        let settings = PostgresConnectionSettings(host: "127.0.0.1", port: Int(port), user: "apideployer", password: "apideployer", database: name)
        return (NodeConfiguration(postgres: ["crm": settings]), port)
    }

    static func psql(_ port: String, _ database: String) -> [String] {
        ["-h", "127.0.0.1", "-p", port, "-U", "apideployer", "-d", database, "-v", "ON_ERROR_STOP=1", "-q"]
    }

    static func shell(_ command: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [command] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(["PGPASSWORD": "apideployer"]) { _, new in new }
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard process.waitForExitStatus() == 0 else { throw NodeError.invalid("\(command) failed") }
        return output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func node(_ configuration: NodeConfiguration) throws -> (NodeRuntime, URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgnode-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try configuration.write(to: directory)
        return (try NodeRuntime(dataDirectory: directory), directory)
    }

    func ask(_ runtime: NodeRuntime, _ endpoint: String, _ body: JSONValue) async -> PublicAPI.Answer {
        var generator = SplitMix64(seed: 8)
        return await PublicAPI().handle(runtime.table, service: "crm", endpoint: endpoint, verb: "query", body: body.serialized(), query: [:], using: &generator)
    }

    @Test func queriesRunOnThePooledConnectionWithBoundParameters() async throws {
        let (configuration, port) = try await Self.database()
        let (runtime, directory) = try Self.node(configuration)
        defer {
            try? FileManager.default.removeItem(at: directory)
            Self.drop(configuration, port: port)
        }
        try await runtime.createService("crm")
        try await runtime.importGeneration(service: "crm", archive: try TestPackages.archive(files: ["service.yaml": Self.manifest]))
        try await runtime.switchTo(service: "crm", generation: "v1")

        let ada = await ask(runtime, "customer-by-email", ["email": "ada@example.com"])
        #expect(ada.status == 200, "\(ada.body)")
        #expect(ada.body["columns"] == ["id", "name", "plan", "score", "active"])
        #expect(ada.body["rows"] == [["1", "Ada", "pro", "0.5", "true"]])
        #expect(await ask(runtime, "customer-by-email", ["email": "bob@example.com"]).body["rows"] == [["2", "Bob", "free", .null, "false"]])
        let label = await ask(runtime, "label", ["id": 1, "factor": 4])
        #expect(label.body["rows"] == [["Ada:suffix", "2.0"]], "literals, casts and comments are not parameters: \(label.body)")

        for attempt in ["x' OR '1'='1", "'; DROP TABLE customers; --"] {
            #expect(await ask(runtime, "customer-by-email", ["email": .string(attempt)]).body["rows"] == [])
        }
        #expect(await ask(runtime, "set-plan", ["plan": "gold', plan = 'x", "active": true]).body["updatedRows"] == 1)
        #expect(await ask(runtime, "customer-by-email", ["email": "ada@example.com"]).body["rows"]?.arrayValue?.first?.arrayValue?[2] == "gold', plan = 'x")
        #expect(await ask(runtime, "customer-by-email", ["email": "bob@example.com"]).body["rows"]?.arrayValue?.first?.arrayValue?[2] == "free")
        #expect(await ask(runtime, "set-plan", ["plan": "x", "active": "true"]).status == 400)
        await runtime.stopWorkers()
    }

    @Test func importsAreRefusedWhenTheServerRefusesOrCannotBeReached() async throws {
        let (configuration, port) = try await Self.database()
        defer { Self.drop(configuration, port: port) }
        var unreachable = configuration
        unreachable.postgres?["crm"]?.port = 1
        for (settings, message) in [(configuration, "relation \"clients\" does not exist"), (unreachable, "could not be reached")] {
            let (runtime, directory) = try Self.node(settings)
            defer { try? FileManager.default.removeItem(at: directory) }
            try await runtime.createService("crm")
            let archive = try TestPackages.archive(files: ["service.yaml": Self.manifest.replacingOccurrences(of: "FROM customers WHERE email", with: "FROM clients WHERE email")])
            let error = await #expect(throws: NodeError.self) { try await runtime.importGeneration(service: "crm", archive: archive) }
            #expect(error?.description.contains("endpoint customer-by-email (connection crm)") == true)
            #expect(error?.description.contains(message) == true, "\(String(describing: error))")
            #expect(error?.description.contains("apideployer@") != true && error?.description.contains("password") != true)
            await runtime.stopWorkers()
        }
    }

    static func drop(_ configuration: NodeConfiguration, port: String) {
        guard let name = configuration.postgres?["crm"]?.database else { return }
        _ = try? shell("psql", psql(port, "postgres") + ["-c", "DROP DATABASE \(name) WITH (FORCE)"])
    }
}
