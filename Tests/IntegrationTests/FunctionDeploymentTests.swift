import DeployerModel
import Foundation
import Testing

/// A service of a Python function and a SQL query endpoint deployed by the controller: its test
/// queries use the endpoints' own verbs, forced to the staged generation by header.
@Suite struct FunctionDeploymentTests {
    /// Builds and pushes version `version` of the `calc` package; returns its sha256.
    static func pushCalc(_ world: DeploymentWorld, version: String, offset: Int) async throws -> String {
        let folder = world.scratch.url.appendingPathComponent("calc-\(version)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("code"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("data"), withIntermediateDirectories: true)
        try """
            apiVersion: apideployer.dev/v1alpha1
            kind: ServicePackage
            service: calc
            version: \(version)
            endpoints:
              - id: add
                type: function
                python: {file: code/calc.py, function: add}
              - id: plan-of
                type: sql-query
                sql:
                  database: data/plans.sqlite
                  query: "SELECT plan FROM plans WHERE id = :id"
                  parameters: [{name: id, type: int}]
            """.write(to: folder.appendingPathComponent("service.yaml"), atomically: true, encoding: .utf8)
        try "def add(a, b):\n    return {'sum': a + b + \(offset)}\n".write(to: folder.appendingPathComponent("code/calc.py"), atomically: true, encoding: .utf8)
        let script = "import sqlite3, sys\ndb = sqlite3.connect(sys.argv[1])\ndb.execute('CREATE TABLE plans (id INTEGER, plan TEXT)')\n"
            + "db.execute(\"INSERT INTO plans VALUES (1, 'pro')\")\ndb.commit()\n"
        #expect(try await run("/usr/bin/env", ["python3", "-c", script, folder.appendingPathComponent("data/plans.sqlite").path], in: world.scratch.url).status == 0)
        let archive = world.scratch.url.appendingPathComponent("calc-\(version).zip")
        #expect(try await run(Products.apideployer, ["package", "build", folder.path, "-o", archive.path], in: world.scratch.url).status == 0)
        let pushed = try await run(Products.apideployer, ["package", "push", archive.path, "--kubeconfig", world.server.kubeconfigPath], in: world.scratch.url)
        let line = try #require(pushed.output.split(separator: "\n").first { $0.hasPrefix("sha256 ") }, "\(pushed.errors)")
        return String(line.dropFirst("sha256 ".count))
    }

    @Test func testQueriesUseTheEndpointsVerbs() async throws {
        try await DeploymentWorld.with(nodes: 1) { world in
            let v1 = try await Self.pushCalc(world, version: "v1", offset: 0)
            let v2 = try await Self.pushCalc(world, version: "v2", offset: 1000)
            try await world.apply([[
                "kind": "PublishedService", "metadata": ["name": "calc"],
                "spec": ["versions": [["version": "v1", "package": ["sha256": .string(v1)]], ["version": "v2", "package": ["sha256": .string(v2)]]]],
            ]])
            let queries: JSONValue = [
                ["endpoint": "add", "verb": "run", "query": ["a": 40, "b": 2], "expect": ["sum": 42]],
                ["endpoint": "plan-of", "verb": "query", "query": ["id": 1], "expect": ["rows": [["pro"]]]],
            ]
            try await world.apply([DeploymentWorld.deployment("calc-dev", service: "calc", spec: ["version": "v1", "testQueries": queries])])
            #expect(try await world.wait("Ready", "calc-dev"))
            #expect(try await world.served(on: world.nodes[0], service: "calc")?.generations == ["v1"])

            // v2 answers 1042: its staged test fails and v1 keeps serving.
            try await world.apply([DeploymentWorld.deployment("calc-dev", service: "calc", spec: ["version": "v2", "testQueries": queries])])
            let stalled = try #require(try await world.watchDeployment("calc-dev") { $0.condition("Stalled")?["status"] == "True" })
            #expect(stalled.condition("Stalled")?["reason"] == "TestQueryFailed")
            #expect(stalled.condition("Stalled")?["message"]?.stringValue?.contains("test query to add") == true)
            let answer = try await run(
                "/usr/bin/env", ["curl", "-s", "-X", "POST", "\(world.nodes[0].url)/public/api/v1/calc/add/run", "-d", #"{"a": 1, "b": 2}"#],
                in: world.scratch.url)
            let body = try JSONValue.parse(Array(answer.output.utf8))
            #expect(body["response"]?["sum"] == 3 && body["apiContext"]?["serviceGeneration"] == "v1", "\(answer.output)")
        }
    }
}
