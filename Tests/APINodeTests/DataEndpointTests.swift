import APINode
import DeployerModel
import Foundation
import Testing

/// SQL query endpoints and dataset lookups on SQLite files of the package.
@Suite struct DataEndpointTests {
    static let manifest = """
        apiVersion: apideployer.dev/v1alpha1
        kind: ServicePackage
        service: crm
        version: v1
        endpoints:
          - id: customer-by-email
            type: sql-query
            sql:
              database: data/customers.sqlite
              query: "SELECT id, name, plan, score FROM customers WHERE email = :email ORDER BY id"
              parameters: [{name: email, type: string}]
          - id: set-plan
            type: sql-query
            sql:
              database: data/customers.sqlite
              query: "UPDATE customers SET plan = :plan WHERE id = :id"
              parameters: [{name: plan, type: string}, {name: id, type: int}]
          - id: features
            type: dataset-lookup
            lookup: {database: data/features.sqlite, table: customer_features, keys: [customer_id, month]}
        """

    static let makeData = """
        import os, sqlite3, sys
        os.makedirs(sys.argv[1] + "/data")
        db = sqlite3.connect(sys.argv[1] + "/data/customers.sqlite")
        db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT, name TEXT, plan TEXT, score REAL)")
        db.executemany("INSERT INTO customers VALUES (?, ?, ?, ?, ?)",
                       [(1, "ada@example.com", "Ada", "pro", 0.5), (2, "bob@example.com", "Bob", "free", None)])
        db.commit()
        db = sqlite3.connect(sys.argv[1] + "/data/features.sqlite")
        db.execute("CREATE TABLE customer_features (customer_id INTEGER, month TEXT, spend REAL, visits INTEGER)")
        db.executemany("INSERT INTO customer_features VALUES (?, ?, ?, ?)", [(1, "2026-10", 12.5, 3), (1, "2026-11", 20.0, 5)])
        db.commit()
        """

    static func archive(manifest: String = Self.manifest) throws -> URL {
        try TestPackages.archive(files: ["service.yaml": manifest], script: makeData)
    }

    static func node() async throws -> (NodeRuntime, URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("datanode-\(UUID().uuidString)")
        let runtime = try NodeRuntime(dataDirectory: directory)
        try await runtime.createService("crm")
        try await runtime.importGeneration(service: "crm", archive: try archive())
        try await runtime.switchTo(service: "crm", generation: "v1")
        return (runtime, directory)
    }

    static func ask(_ runtime: NodeRuntime, _ endpoint: String, _ verb: String, _ body: JSONValue) async -> PublicAPI.Answer {
        var generator = SplitMix64(seed: 4)
        return await PublicAPI().handle(runtime.table, service: "crm", endpoint: endpoint, verb: verb, body: body.serialized(), query: [:], using: &generator)
    }

    @Test func queriesBindNamedParametersAndAnswerStrings() async throws {
        let (runtime, directory) = try await Self.node()
        defer { try? FileManager.default.removeItem(at: directory) }
        let ada = await Self.ask(runtime, "customer-by-email", "query", ["email": "ada@example.com"])
        #expect(ada.status == 200)
        #expect(ada.body["columns"] == ["id", "name", "plan", "score"])
        #expect(ada.body["rows"] == [["1", "Ada", "pro", "0.5"]])
        let bob = await Self.ask(runtime, "customer-by-email", "query", ["email": "bob@example.com"])
        #expect(bob.body["rows"] == [["2", "Bob", "free", .null]])
        let nobody = await Self.ask(runtime, "customer-by-email", "query", ["email": "eve@example.com"])
        #expect(nobody.body["columns"] == ["id", "name", "plan", "score"], "columns even without rows")
        #expect(nobody.body["rows"] == [])

        let updated = await Self.ask(runtime, "set-plan", "query", ["plan": "enterprise", "id": 2])
        #expect(updated.body["updatedRows"] == 1)
        #expect(await Self.ask(runtime, "customer-by-email", "query", ["email": "bob@example.com"]).body["rows"] == [["2", "Bob", "enterprise", .null]])
    }

    @Test func injectionAttemptsChangeNothingAndReturnNothing() async throws {
        let (runtime, directory) = try await Self.node()
        defer { try? FileManager.default.removeItem(at: directory) }
        for attempt in ["x' OR '1'='1", "' OR 1=1 --", "x'; DROP TABLE customers; --", "ada@example.com' UNION SELECT 1,2,3,4 --"] {
            let answer = await Self.ask(runtime, "customer-by-email", "query", ["email": .string(attempt)])
            #expect(answer.status == 200)
            #expect(answer.body["rows"] == [], "\(attempt)")
        }
        let sneaky = await Self.ask(runtime, "set-plan", "query", ["plan": "x', plan = 'pwned", "id": 1])
        #expect(sneaky.body["updatedRows"] == 1)
        #expect(await Self.ask(runtime, "customer-by-email", "query", ["email": "ada@example.com"]).body["rows"] == [["1", "Ada", "x', plan = 'pwned", "0.5"]])
        #expect(await Self.ask(runtime, "customer-by-email", "query", ["email": "bob@example.com"]).body["rows"]?.arrayValue?.count == 1, "the table is intact")

        #expect(await Self.ask(runtime, "set-plan", "query", ["plan": "pro", "id": "1 OR 1=1"]).status == 400, "an int parameter takes only an integer")
        #expect(await Self.ask(runtime, "customer-by-email", "query", [:]).body["details"]?["parameter"] == "email")
        #expect(await Self.ask(runtime, "customer-by-email", "query", ["email": "a", "extra": 1]).body["details"]?["parameter"] == "extra")
        #expect(await Self.ask(runtime, "customer-by-email", "query", ["email": 5]).status == 400)
        #expect(await Self.ask(runtime, "customer-by-email", "lookup", ["email": "a"]).status == 404)
    }

    @Test func lookupsAnswerEachItemFoundOrNot() async throws {
        let (runtime, directory) = try await Self.node()
        defer { try? FileManager.default.removeItem(at: directory) }
        let one = await Self.ask(runtime, "features", "lookup", ["data": ["customer_id": 1, "month": "2026-11"], "context": ["who": "test"]])
        #expect(one.status == 200)
        #expect(one.body["results"] == [["found": true, "data": ["customer_id": 1, "month": "2026-11", "spend": 20.0, "visits": 5]]])
        let many = await Self.ask(
            runtime, "features", "lookup-multi",
            ["items": [["data": ["customer_id": 1, "month": "2026-10"]], ["data": ["customer_id": 9, "month": "2026-10"]], ["data": ["customer_id": "1", "month": "2026-11"]]]])
        #expect(many.body["results"]?.arrayValue?.map { $0["found"] } == [true, false, true])
        #expect(many.body["results"]?.arrayValue?[1]["data"] == .null)
        let missingKey = await Self.ask(runtime, "features", "lookup-multi", ["items": [["data": ["customer_id": 1]]]])
        #expect(missingKey.status == 400)
        #expect(missingKey.body["message"]?.stringValue?.contains("items[0].data.month") == true)
        #expect(await Self.ask(runtime, "features", "lookup-multi", ["items": []]).status == 400)
    }

    @Test func aForcedGenerationReachesEveryVerbAndQueryBodiesHoldOnlyParameters() async throws {
        let (runtime, directory) = try await Self.node()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await runtime.importGeneration(service: "crm", archive: try Self.archive(manifest: Self.manifest.replacingOccurrences(of: "version: v1", with: "version: v2")))
        var generator = SplitMix64(seed: 4)
        let forced = await PublicAPI().handle(
            runtime.table, service: "crm", endpoint: "customer-by-email", verb: "query", body: Array(#"{"email": "ada@example.com"}"#.utf8),
            query: [:], forcedGeneration: "v2", using: &generator)
        #expect(forced.status == 200 && forced.generation == "v2")
        let dispatchInBody = await Self.ask(runtime, "customer-by-email", "query", ["email": "a", "dispatch": ["forcedGeneration": "v2"]])
        #expect(dispatchInBody.status == 400 && dispatchInBody.body["details"]?["parameter"] == "dispatch", "a parameter, not a dispatch")
        let lookup = await Self.ask(runtime, "features", "lookup", ["data": ["customer_id": 1, "month": "2026-11"], "dispatch": ["forcedGeneration": "v2"]])
        #expect(lookup.generation == "v2")
    }

    @Test func statementsThatCannotRunAreRefusedAtImport() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("datanode-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let runtime = try NodeRuntime(dataDirectory: directory)
        try await runtime.createService("crm")
        let cases: [(String, String, String)] = [
            ("FROM customers WHERE", "FROM clients WHERE", "no such table: clients"),
            ("email = :email ORDER", "email = :mail ORDER", "uses :mail"),
            ("keys: [customer_id, month]", "keys: [customer, month]", "no key column \"customer\""),
            ("database: data/customers.sqlite\n      query: \"SELECT", "connection: crm\n      query: \"SELECT", "connection \"crm\" is not configured"),
        ]
        for (original, replacement, message) in cases {
            let archive = try Self.archive(manifest: Self.manifest.replacingOccurrences(of: original, with: replacement))
            let error = await #expect(throws: NodeError.self) { try await runtime.importGeneration(service: "crm", archive: archive) }
            #expect(error?.description.contains(message) == true, "\(String(describing: error))")
        }
        #expect(try await runtime.service("crm").generations.isEmpty)

        // Off a node (package build, the deployer's store) the connection cannot be checked and is not.
        let unpacked = directory.appendingPathComponent("unpacked")
        let onConnection = Self.manifest.replacingOccurrences(of: "database: data/customers.sqlite\n      query: \"SELECT", with: "connection: crm\n      query: \"SELECT")
        try PackageArchive.extract(try Self.archive(manifest: onConnection), to: unpacked)
        #expect(try PackageValidator.validate(folder: unpacked).manifest.endpoints.count == 3)
    }
}
