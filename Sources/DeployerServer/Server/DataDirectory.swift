import DeployerModel
import Foundation

/// The files `apideployer serve` keeps in its data directory:
///
/// - `lock` — held by the process serving the directory (see `DataDirectoryLock`);
/// - `store.sqlite` — the resources (see `SQLiteJournal`), Secrets encrypted;
/// - `secret-keys.json` (mode 0600) — the keys that encrypt them (see `SecretKeyring`);
/// - `tls/server.crt`, `tls/server.key` — created at first start unless others are given;
/// - `identities.json` (mode 0600) — users, groups and API tokens (tokens only as SHA-256 hashes);
/// - `kubeconfig` (mode 0600) — server URL, CA and the bootstrap admin token, for kubectl and our CLI.
public struct DataDirectory: Sendable {
    public let url: URL

    public init(_ path: String) {
        url = URL(fileURLWithPath: path)
    }

    public var storePath: String { url.appendingPathComponent("store.sqlite").path }
    public var secretKeysPath: String { url.appendingPathComponent("secret-keys.json").path }
    public var kubeconfigPath: String { url.appendingPathComponent("kubeconfig").path }
    var identitiesPath: String { url.appendingPathComponent("identities.json").path }
    var certificatePath: String { url.appendingPathComponent("tls/server.crt").path }
    var keyPath: String { url.appendingPathComponent("tls/server.key").path }

    /// Creates the directory (mode 0700) and, on first start, the TLS material.
    public func prepare(certificatePath givenCertificate: String?, keyPath givenKey: String?) throws -> (certificate: String, key: String) {
        let files = FileManager.default
        try files.createDirectory(at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if let givenCertificate, let givenKey {
            return (try String(contentsOfFile: givenCertificate, encoding: .utf8), try String(contentsOfFile: givenKey, encoding: .utf8))
        }
        if !files.fileExists(atPath: certificatePath) || !files.fileExists(atPath: keyPath) {
            try files.createDirectory(
                at: url.appendingPathComponent("tls"), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let made = try SelfSignedCertificate.make()
            try Self.writePrivate(made.certificate, to: certificatePath)
            try Self.writePrivate(made.key, to: keyPath)
        }
        return (try String(contentsOfFile: certificatePath, encoding: .utf8), try String(contentsOfFile: keyPath, encoding: .utf8))
    }

    /// The users and tokens; on first start, a bootstrap admin whose token is returned once.
    public func openIdentities() throws -> (store: IdentityStore, newAdminToken: String?) {
        let store = try IdentityStore(path: identitiesPath)
        return (store, try store.bootstrap())
    }

    /// Writes the kubeconfig for `server`; keeps the token of an existing kubeconfig when no new one is given.
    public func writeKubeconfig(server: String, certificatePEM: String?, newToken: String?) throws {
        var token = newToken
        if token == nil, let existing = try? String(contentsOfFile: kubeconfigPath, encoding: .utf8),
            let document = try JSONValue.parseYAMLDocuments(existing).first,
            let config = try? document.decode(Kubeconfig.self)
        {
            token = config.users.first?.user.token
        }
        guard let token else { return }
        let config = Kubeconfig(
            name: "apideployer", server: server, certificateAuthorityData: certificatePEM.map { Base64.encode(Array($0.utf8)) },
            token: token)
        try Self.writePrivate(try JSONValue(encoding: config).yamlString(), to: kubeconfigPath)
    }

    /// Writes a file readable only by its owner, atomically and durably.
    static func writePrivate(_ text: String, to path: String) throws {
        try AtomicFile.write(Data(text.utf8), to: URL(fileURLWithPath: path), permissions: 0o600)
    }
}
