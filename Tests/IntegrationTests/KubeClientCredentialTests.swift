import CloudHTTP
import DeployerModel
import Foundation
import Testing

/// The Kubernetes client's credentials against a real server: an exec credential plugin
/// (cached until it expires, asked again after a 401; the real kubectl runs the same
/// kubeconfig), in-cluster configuration with a rotating token file, and client certificates.
@Suite struct KubeClientCredentialTests {
    /// A plugin that counts its runs in `runs`, checks it was told the cluster, and prints the
    /// token in `tokens` for this run (line N for run N, the last line after that).
    static func plugin(in scratch: Scratch, expires: String) throws -> String {
        let path = scratch.url.appendingPathComponent("credential-plugin.sh").path
        try """
            #!/bin/sh
            set -e
            cd "$(dirname "$0")"
            echo run >> runs
            run=$(wc -l < runs)
            case "$KUBERNETES_EXEC_INFO" in *'"server":"https://'*) ;; *) echo "no cluster info" >&2; exit 3 ;; esac
            token=$(sed -n "${run}p" tokens); [ -n "$token" ] || token=$(tail -n 1 tokens)
            printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"%s"}}' "$token" "\(expires)"
            """.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
        return path
    }

    static func runs(_ scratch: Scratch) -> Int {
        ((try? String(contentsOf: scratch.url.appendingPathComponent("runs"), encoding: .utf8)) ?? "").split(separator: "\n").count
    }

    static func execKubeconfig(server: ServerProcess, plugin: String) throws -> Kubeconfig {
        var config = try KubeconfigLoader.load(path: server.kubeconfigPath)
        var user = Kubeconfig.NamedUser.User()
        user.exec = Kubeconfig.NamedUser.ExecConfig(
            apiVersion: "client.authentication.k8s.io/v1", command: plugin, args: nil, env: nil, interactiveMode: "Never",
            provideClusterInfo: true, installHint: nil)
        config.users[0].user = user
        return config
    }

    @Test func anExecPluginTokenIsCachedUntilItExpiresAndAskedAgainAfterA401() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let server = try await ServerProcess.start(dataDirectory: scratch.url.appendingPathComponent("data"))
        let token = try #require(try KubeconfigLoader.load(path: server.kubeconfigPath).users.first?.user.token)
        let stages = APIPaths.collection(.stage, namespace: "default")

        // A lasting credential: one run for many requests. The first token is stale: a 401, then
        // the plugin is asked again.
        try "stale-token\n\(token)\n".write(to: scratch.url.appendingPathComponent("tokens"), atomically: true, encoding: .utf8)
        let lasting = try KubeClient(kubeconfig: Self.execKubeconfig(server: server, plugin: Self.plugin(in: scratch, expires: "2099-01-01T00:00:00Z")))
        for _ in 0..<3 { #expect(try await lasting.send(.GET, stages).status == 200) }
        #expect(Self.runs(scratch) == 2, "one run for the stale token, one after the 401, none for the next requests")
        try await lasting.shutdown()

        // An expired credential is asked for again at each request.
        try FileManager.default.removeItem(at: scratch.url.appendingPathComponent("runs"))
        try "\(token)\n".write(to: scratch.url.appendingPathComponent("tokens"), atomically: true, encoding: .utf8)
        let brief = try Self.execKubeconfig(server: server, plugin: Self.plugin(in: scratch, expires: "2000-01-01T00:00:00Z"))
        let briefClient = try KubeClient(kubeconfig: brief)
        for _ in 0..<3 { #expect(try await briefClient.send(.GET, stages).status == 200) }
        #expect(Self.runs(scratch) == 3)
        try await briefClient.shutdown()

        // The real kubectl reads the same kubeconfig and runs the same plugin.
        let file = scratch.url.appendingPathComponent("exec.kubeconfig").path
        try JSONValue(encoding: brief).yamlString().write(toFile: file, atomically: true, encoding: .utf8)
        let kubectl = try await run(
            "/usr/bin/env", ["kubectl", "--kubeconfig", file, "get", "stages", "-o", "name"],
            environment: ["KUBECACHEDIR": scratch.url.appendingPathComponent("cache").path], in: scratch.url)
        #expect(kubectl.status == 0 && kubectl.output.contains("stage.apideployer.dev/production"), "\(kubectl.errors)")
        await server.stop()
    }

    @Test func inClusterConfigurationReadsTheServiceAccountAndFollowsATokenRotation() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let server = try await ServerProcess.start(dataDirectory: scratch.url.appendingPathComponent("data"))
        let admin = try #require(try KubeconfigLoader.load(path: server.kubeconfigPath).users.first?.user.token)
        let account = scratch.url.appendingPathComponent("serviceaccount")
        try FileManager.default.createDirectory(at: account, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: server.dataDirectory.appendingPathComponent("tls/server.crt"), to: account.appendingPathComponent("ca.crt"))
        try admin.write(to: account.appendingPathComponent("token"), atomically: true, encoding: .utf8)
        try "scoring\n".write(to: account.appendingPathComponent("namespace"), atomically: true, encoding: .utf8)
        let port = try #require(URL(string: server.url)?.port)
        let client = try KubeClient.inCluster(
            environment: ["KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": String(port)], serviceAccount: account.path)
        #expect(client.namespace == "scoring" && client.baseURL == "https://127.0.0.1:\(port)")
        let stages = APIPaths.collection(.stage, namespace: "default")
        #expect(try await client.send(.GET, stages).status == 200)

        // The kubelet rotates the token: the old one is revoked, the file holds a new one.
        let created = try await run(
            Products.apideployer, ["token", "create", "--user", "controller", "--groups", "system:masters", "--kubeconfig", server.kubeconfigPath],
            in: scratch.url)
        try created.output.trimmingCharacters(in: .whitespacesAndNewlines).write(to: account.appendingPathComponent("token"), atomically: true, encoding: .utf8)
        let listed = try await run(Products.apideployer, ["token", "list", "--kubeconfig", server.kubeconfigPath], in: scratch.url)
        let bootstrap = try #require(listed.output.split(separator: "\n").first { $0.contains("bootstrap admin") }?.split(separator: " ").first)
        #expect(try await run(Products.apideployer, ["token", "revoke", String(bootstrap), "--kubeconfig", server.kubeconfigPath], in: scratch.url).status == 0)
        #expect(try await client.send(.GET, stages).status == 200, "a 401 on the cached token reads the file again")
        try await client.shutdown()
        await server.stop()
    }

    @Test func aClientCertificateFromTheKubeconfigIsPresented() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let certificates = try await NodeClientCertificateTests.makeCertificates(in: scratch)
        let data = scratch.url.appendingPathComponent("node")
        #expect(try await run(Products.apideployer, ["node", "init", data.path], in: scratch.url).status == 0)
        let key = try await run(data.appendingPathComponent("bin/apinode-admin").path, ["admin-key-create"], in: scratch.url)
            .output.trimmingCharacters(in: .whitespacesAndNewlines)
        let (node, url) = try await NodeCrashAndTLSTests.startNode(
            data, in: scratch, extra: ["--tls-cert", certificates.server.0, "--tls-key", certificates.server.1, "--tls-client-ca", certificates.ca])
        func base64(_ file: String) throws -> String { Base64.encode(Array(try Data(contentsOf: URL(fileURLWithPath: file)))) }
        var config = Kubeconfig(name: "node", server: url, certificateAuthorityData: try base64(certificates.ca), token: key)
        let without = try KubeClient(kubeconfig: config)
        #expect(try await without.send(.GET, "/admin/api/services").status == 401)
        try await without.shutdown()
        config.users[0].user.clientCertificateData = try base64(certificates.client.0)
        config.users[0].user.clientKeyData = try base64(certificates.client.1)
        let with = try KubeClient(kubeconfig: config)
        #expect(try await with.send(.GET, "/admin/api/services").status == 200)
        try await with.shutdown()
        node.signal(SIGTERM)
        _ = await node.finish()
    }
}
