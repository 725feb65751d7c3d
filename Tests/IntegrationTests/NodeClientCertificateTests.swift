import DeployerModel
import Foundation
import Testing

/// A node whose admin API requires client certificates (`--tls-client-ca`): curl, the admin
/// tool and the deployer (an infrastructure node's `tls` block) get in only with a certificate
/// the CA signed; the public API needs none.
@Suite struct NodeClientCertificateTests {
    /// A CA, a server certificate for 127.0.0.1 and a client certificate it signed, and a
    /// client certificate nobody trusts.
    static func makeCertificates(in scratch: Scratch) async throws -> (ca: String, server: (String, String), client: (String, String), rogue: (String, String)) {
        func path(_ name: String) -> String { scratch.url.appendingPathComponent(name).path }
        func openssl(_ arguments: [String]) async throws {
            let result = try await run("/usr/bin/env", ["openssl"] + arguments, in: scratch.url)
            #expect(result.status == 0, "openssl \(arguments.first ?? ""): \(result.errors)")
        }
        let curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        try await openssl(["req", "-x509"] + curve + ["-keyout", path("ca.key"), "-out", path("ca.crt"), "-days", "1", "-subj", "/CN=test-ca"])
        for (name, extensions) in [("server", "subjectAltName=IP:127.0.0.1"), ("client", "extendedKeyUsage=clientAuth")] {
            try await openssl(["req"] + curve + ["-keyout", path("\(name).key"), "-out", path("\(name).csr"), "-subj", "/CN=\(name)"])
            try "\(extensions)\n".write(toFile: path("\(name).ext"), atomically: true, encoding: .utf8)
            try await openssl([
                "x509", "-req", "-in", path("\(name).csr"), "-CA", path("ca.crt"), "-CAkey", path("ca.key"), "-CAcreateserial", "-days", "1",
                "-out", path("\(name).crt"), "-extfile", path("\(name).ext"),
            ])
        }
        try await openssl(["req", "-x509"] + curve + ["-keyout", path("rogue.key"), "-out", path("rogue.crt"), "-days", "1", "-subj", "/CN=rogue"])
        // The node serves its full chain, as operators do (the admin tool pins that file).
        try (try String(contentsOfFile: path("server.crt"), encoding: .utf8) + String(contentsOfFile: path("ca.crt"), encoding: .utf8))
            .write(toFile: path("server-chain.crt"), atomically: true, encoding: .utf8)
        return (path("ca.crt"), (path("server-chain.crt"), path("server.key")), (path("client.crt"), path("client.key")), (path("rogue.crt"), path("rogue.key")))
    }

    @Test func theAdminAPIAdmitsOnlyClientsWithACertificateTheCASigned() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let certificates = try await Self.makeCertificates(in: scratch)
        let data = scratch.url.appendingPathComponent("node")
        #expect(try await run(Products.apideployer, ["node", "init", data.path], in: scratch.url).status == 0)
        let tool = data.appendingPathComponent("bin/apinode-admin").path
        let key = try await run(tool, ["admin-key-create"], in: scratch.url).output.trimmingCharacters(in: .whitespacesAndNewlines)
        let lonely = try await run(Products.apideployer, ["node", "serve", "--data-dir", data.path, "--tls-client-ca", certificates.ca], in: scratch.url)
        #expect(lonely.status != 0 && lonely.errors.contains("--tls-client-ca needs --tls-cert"), "\(lonely.errors)")
        let (node, url) = try await NodeCrashAndTLSTests.startNode(
            data, in: scratch, extra: ["--tls-cert", certificates.server.0, "--tls-key", certificates.server.1, "--tls-client-ca", certificates.ca])

        func curl(_ path: String, client: (String, String)?) async throws -> (exit: Int32, status: String) {
            var arguments = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", certificates.ca, "-u", "\(key):"]
            if let client { arguments += ["--cert", client.0, "--key", client.1] }
            let result = try await run("/usr/bin/env", arguments + ["\(url)\(path)"], in: scratch.url)
            return (result.status, result.output)
        }
        #expect(try await curl("/admin/api/services", client: nil).status == "401")
        #expect(try await curl("/admin/api/services", client: certificates.client).status == "200")
        #expect(try await curl("/admin/api/services", client: certificates.rogue).exit != 0, "an untrusted certificate fails the handshake")
        #expect(try await curl("/isAlive/", client: nil).status == "200", "the public side needs no certificate")

        let refused = try await run(tool, ["services-list"], in: scratch.url)
        #expect(refused.status != 0)
        let admitted = try await run(
            "/usr/bin/env", ["APINODE_CLIENT_CERT=\(certificates.client.0)", "APINODE_CLIENT_KEY=\(certificates.client.1)", tool, "services-list"],
            in: scratch.url)
        #expect(admitted.status == 0, "\(admitted.errors)")

        // The deployer reaches it through the infrastructure node's tls block.
        let server = try await ServerProcess.start(dataDirectory: scratch.url.appendingPathComponent("deployer"), controller: true)
        func pem(_ file: String) throws -> String { try String(contentsOfFile: file, encoding: .utf8) }
        let secret: JSONValue = [
            "apiVersion": .string(ResourceKind.apiVersion), "kind": "Secret", "metadata": ["name": "node-access"],
            "stringData": [
                "admin-key": .string(key), "ca.crt": .string(try pem(certificates.ca)), "tls.crt": .string(try pem(certificates.client.0)),
                "tls.key": .string(try pem(certificates.client.1)),
            ],
        ]
        let infrastructure = { (withClientCertificate: Bool) -> JSONValue in
            var tls: JSONValue = ["caSecretRef": ["name": "node-access", "key": "ca.crt"]]
            if withClientCertificate {
                tls["clientCertificateSecretRef"] = ["name": "node-access", "key": "tls.crt"]
                tls["clientKeySecretRef"] = ["name": "node-access", "key": "tls.key"]
            }
            return [
                "apiVersion": .string(ResourceKind.apiVersion), "kind": "Infrastructure", "metadata": ["name": "secured"],
                "spec": [
                    "stage": "development", "type": "static",
                    "static": ["nodes": [["name": "a", "url": .string(url), "adminKeySecretRef": ["name": "node-access", "key": "admin-key"], "tls": tls]]],
                ],
            ]
        }
        let manifests = scratch.url.appendingPathComponent("secured.yaml").path
        for (withClientCertificate, wanted) in [(false, "False"), (true, "True")] {
            let text = [secret, infrastructure(withClientCertificate)].map { String(decoding: $0.serialized(), as: UTF8.self) }.joined(separator: "\n---\n")
            try text.write(toFile: manifests, atomically: true, encoding: .utf8)
            let applied = try await run(Products.apideployer, ["apply", "-f", manifests, "--kubeconfig", server.kubeconfigPath], in: scratch.url)
            #expect(applied.status == 0, "\(applied.errors)")
            let waited = try await run(
                Products.apideployer,
                ["wait", "--for=condition=Ready=\(wanted)", "infrastructure/secured", "--timeout=60s", "--kubeconfig", server.kubeconfigPath],
                in: scratch.url)
            #expect(waited.status == 0, "Ready=\(wanted) with a client certificate: \(withClientCertificate); \(waited.errors)")
        }
        await server.stop()
        node.signal(SIGTERM)
        _ = await node.finish()
    }
}
