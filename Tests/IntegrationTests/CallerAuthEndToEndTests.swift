import AsyncHTTPClient
import CloudHTTP
import DeployerModel
import DeployerTesting
import Foundation
import Testing

/// Published services with `auth` deployed onto a real node by the controller: API keys from
/// secrets (one limited to another endpoint) and JWTs checked against a JWKS from a secret.
/// Afterwards every file the run wrote, every process output, status and error body is
/// searched for the secret values.
@Suite struct CallerAuthEndToEndTests {
    @Test func apiKeysAndJWTsGuardTheEndpointsAndNoSecretIsWrittenAnywhere() async throws {
        let issuer = try TestTokenIssuer()
        let mobileKey = "mobile-" + SecretToken.generate()
        let partnerKey = "partner-" + SecretToken.generate()
        try await DeploymentWorld.with(nodes: 1, services: ["churn", "fraud"]) { world in
            let versions = { (service: String) -> JSONValue in
                ["versions": [["version": "v1", "package": ["sha256": .string(world.digests[service]!["v1"]!)]]]]
            }
            var churn = versions("churn")
            churn["auth"] = [
                "mode": "apiKeys",
                "apiKeys": [
                    ["secretRef": ["name": "churn-keys", "key": "mobile-app"]],
                    ["secretRef": ["name": "churn-keys", "key": "partner"], "endpoints": ["explain-churn"]],
                ],
            ]
            var fraud = versions("fraud")
            fraud["auth"] = ["mode": "jwt", "jwt": ["issuer": .string(issuer.issuer), "audience": "fraud", "jwksSecretRef": ["name": "fraud-jwks", "key": "jwks"]]]
            try await world.apply([
                ["kind": "Secret", "metadata": ["name": "churn-keys"], "stringData": ["mobile-app": .string(mobileKey), "partner": .string(partnerKey)]],
                ["kind": "Secret", "metadata": ["name": "fraud-jwks"], "stringData": ["jwks": .string(String(decoding: try issuer.jwks(), as: UTF8.self))]],
                ["kind": "PublishedService", "metadata": ["name": "churn"], "spec": churn],
                ["kind": "PublishedService", "metadata": ["name": "fraud"], "spec": fraud],
                DeploymentWorld.deployment("churn-dev", spec: ["version": "v1", "testQueries": [["endpoint": "predict-churn", "query": DeploymentWorld.sampleQuery]]]),
                DeploymentWorld.deployment("fraud-dev", service: "fraud", spec: ["version": "v1"]),
            ])
            #expect(try await world.wait("Ready", "churn-dev"), "test queries pass with the node's admin key")
            #expect(try await world.wait("Ready", "fraud-dev"))

            let node = world.nodes[0]
            let ask = { (service: String, authorization: String?) async throws -> (Int, JSONValue) in
                var request = HTTPClientRequest(url: "\(node.url)/public/api/v1/\(service)/predict-churn/predict")
                request.method = .POST
                request.body = .bytes(DeploymentWorld.sampleQuery.serialized())
                if let authorization { request.headers.add(name: "Authorization", value: authorization) }
                let response = try await world.http.execute(request, timeout: .seconds(30))
                let body = try await response.body.collect(upTo: 1 << 20)
                return (Int(response.status.code), (try? JSONValue.parse(Array(body.readableBytesView))) ?? .null)
            }
            let basic = { (key: String) in "Basic " + Base64.encode(Array("\(key):".utf8)) }
            var refusals: [JSONValue] = []
            for (authorization, expected) in [(nil, 401), ("Bearer wrong", 401), (basic("wrong"), 401), (basic(partnerKey), 403)] as [(String?, Int)] {
                let (status, body) = try await ask("churn", authorization)
                #expect(status == expected, "\(String(describing: authorization?.prefix(12)))")
                refusals.append(body)
            }
            #expect(try await ask("churn", basic(mobileKey)).0 == 200)
            #expect(try await ask("churn", "Bearer \(mobileKey)").0 == 200)
            #expect(try await ask("churn", "Bearer \(node.adminKey)").0 == 200, "the node's admin key opens every service")

            #expect(try await ask("fraud", "Bearer \(try issuer.token(issuer.claims(subject: "scorer", audience: "fraud")))").0 == 200)
            #expect(try await ask("fraud", "Bearer \(mobileKey)").0 == 401)
            for (name, token) in try issuer.negativeCases(audience: "fraud") {
                let (status, body) = try await ask("fraud", "Bearer \(token)")
                #expect(status == 401, "\(name)")
                refusals.append(body)
            }
            #expect(Set(refusals.compactMap { $0["message"]?.stringValue }).count == 2, "refusals give no hint of what was wrong")

            // Rotating a key in its secret reaches the node without a new rollout.
            let before = try await world.deploymentObject("churn-dev")["status"]?["callerAuth"]?.stringValue
            #expect(before?.hasPrefix("apiKeys:") == true)
            let rotatedKey = "rotated-" + SecretToken.generate()
            try await world.apply([["kind": "Secret", "metadata": ["name": "churn-keys"], "stringData": ["mobile-app": .string(rotatedKey), "partner": .string(partnerKey)]]])
            let after = try await world.watchDeployment("churn-dev") { $0["status"]?["callerAuth"]?.stringValue != before }
            #expect(after?["status"]?["callerAuth"]?.stringValue?.hasPrefix("apiKeys:") == true)
            #expect(try await ask("churn", basic(rotatedKey)).0 == 200)
            #expect(try await ask("churn", basic(mobileKey)).0 == 401, "the old key is refused")

            // The search: files of every process (stores, logs, audit, stderr), outputs, objects.
            let secrets = [mobileKey, partnerKey, rotatedKey] + world.nodes.map(\.adminKey)
            let forms = secrets.flatMap { [$0, Base64.encode(Array($0.utf8)), Base64.encode(Array("\($0):".utf8))] }
            for node in world.nodes { _ = await node.process.terminate() }
            var texts: [(String, String)] = try Self.files(under: world.scratch.url).map { ($0.path, String(decoding: try Data(contentsOf: $0), as: UTF8.self)) }
            texts.append(("deployer output", world.server.child.output))
            texts += world.nodes.map { ("\($0.name) output", $0.process.output) }
            for kind in [ResourceKind.serviceDeployment, .infrastructure, .publishedService] {
                let list = try await world.client.send(.GET, APIPaths.collection(kind, namespace: "default")).checkedJSON()
                texts.append(("\(kind.plural) as listed", String(decoding: list.serialized(), as: UTF8.self)))
            }
            texts += refusals.map { ("refusal", String(decoding: $0.serialized(), as: UTF8.self)) }
            #expect(texts.contains { $0.0.hasSuffix("services/churn/service.json") && $0.1.contains("\"apiKeys\"") }, "the nodes' files are searched")
            #expect(texts.contains { $0.0.hasSuffix("store.sqlite") || $0.0.hasSuffix("store.sqlite-wal") }, "the deployer's store is searched")
            for (source, text) in texts {
                for form in forms { #expect(!text.contains(form), "a secret value appears in \(source)") }
            }
            let audit = texts.filter { $0.0.contains("/audit/") }
            #expect(!audit.isEmpty && audit.contains { $0.1.contains("\"Secret\"") }, "the audit trail names the secrets written, not their values")
        }
    }

    /// Every regular file under `directory`, recursively.
    static func files(under directory: URL) throws -> [URL] {
        let enumerator = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.isRegularFileKey])
        return (enumerator?.allObjects as? [URL] ?? []).filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true }
    }
}
