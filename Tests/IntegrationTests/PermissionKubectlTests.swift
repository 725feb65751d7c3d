import DeployerModel
import DeployerTesting
import Foundation
import Testing

/// A non-admin user's token, made with `apideployer token create`, in the real kubectl: it
/// sees only what its groups may see, is refused what they may not change, and stops working
/// once revoked.
@Suite struct PermissionKubectlTests {
    @Test func aUsersTokenSeesOnlyWhatItsGroupsMaySee() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let server = try await ServerProcess.start(dataDirectory: scratch.url.appendingPathComponent("data"))
        func kubectl(_ kubeconfig: String, _ arguments: String...) async throws -> CommandResult {
            try await run(
                "/usr/bin/env", ["kubectl", "--kubeconfig", kubeconfig] + arguments,
                environment: ["KUBECACHEDIR": scratch.url.appendingPathComponent("cache-\(UUID().uuidString)").path], in: scratch.url)
        }
        func apideployer(_ arguments: String...) async throws -> CommandResult {
            try await run(Products.apideployer, arguments + ["--kubeconfig", server.kubeconfigPath], in: scratch.url)
        }
        let admin = server.kubeconfigPath
        let file = scratch.url.appendingPathComponent("objects.yaml").path
        try SampleObjects.permissionWorld.write(toFile: file, atomically: true, encoding: .utf8)
        let applied = try await kubectl(admin, "apply", "-f", file)
        #expect(applied.status == 0, "\(applied.errors)")

        let created = try await apideployer("token", "create", "--user", "fred", "--groups", "fraud-team", "--expires", "30d")
        #expect(created.status == 0, "\(created.errors)")
        let token = created.output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.count >= 40)
        let fred = scratch.url.appendingPathComponent("fred.kubeconfig").path
        var config = try #require(try JSONValue.parseYAMLDocuments(String(contentsOfFile: admin, encoding: .utf8)).first)
        var users = try #require(config["users"]?.arrayValue)
        users[0]["user"]?["token"] = .string(token)
        config["users"] = .array(users)
        try config.yamlString().write(toFile: fred, atomically: true, encoding: .utf8)

        let deployments = try await kubectl(fred, "get", "servicedeployments", "-o", "name")
        #expect(deployments.status == 0, "\(deployments.errors)")
        #expect(
            deployments.output.split(separator: "\n").sorted()
                == ["servicedeployment.apideployer.dev/fraud-dev", "servicedeployment.apideployer.dev/fraud-prod"])
        let services = try await kubectl(fred, "get", "publishedservices", "-o", "name")
        #expect(services.output == "publishedservice.apideployer.dev/fraud\n")
        let secrets = try await kubectl(fred, "get", "secrets.apideployer.dev")
        #expect(secrets.status == 0 && !secrets.output.contains("node-keys") && secrets.errors.contains("No resources found"))
        let hidden = try await kubectl(fred, "get", "publishedservice", "churn")
        #expect(hidden.status != 0 && hidden.errors.contains("NotFound"), "\(hidden.errors)")
        let refused = try await kubectl(fred, "delete", "servicedeployment", "fraud-prod")
        #expect(refused.status != 0 && refused.errors.contains("Forbidden"), "\(refused.errors)")
        #expect(refused.errors.contains("infrastructure \"prod\""), "the refusal says which permission is missing")
        let allowed = try await kubectl(fred, "delete", "servicedeployment", "fraud-dev", "--wait=false")
        #expect(allowed.status == 0, "\(allowed.errors)")

        let impersonated = try await kubectl(admin, "--as", "alice", "--as-group", "data-scientists", "get", "publishedservices", "-o", "name")
        #expect(impersonated.output == "publishedservice.apideployer.dev/churn\npublishedservice.apideployer.dev/fraud\n", "\(impersonated.errors)")
        let escalation = try await kubectl(fred, "--as", "admin", "--as-group", "system:masters", "get", "secrets.apideployer.dev")
        #expect(escalation.status != 0 && escalation.errors.contains("Forbidden"), "\(escalation.errors)")

        let listed = try await apideployer("token", "list")
        let id = try #require(listed.output.split(separator: "\n").first { $0.contains("fred") }?.split(separator: " ").first)
        #expect(!listed.output.contains(token), "a listing never shows the token")
        #expect(try await apideployer("token", "revoke", String(id)).status == 0)
        let revoked = try await kubectl(fred, "get", "servicedeployments")
        #expect(revoked.status != 0 && revoked.errors.contains("provide credentials"), "\(revoked.errors)")
        await server.stop()
    }
}
