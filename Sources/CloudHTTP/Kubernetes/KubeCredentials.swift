import DeployerModel
import Foundation
import Subprocess

/// Where a Kubernetes client's bearer token comes from, as client-go does it: a fixed token; a
/// token file read again at most every minute (projected service-account tokens rotate); or an
/// exec credential plugin (`client.authentication.k8s.io/v1`) whose token is cached until its
/// `expirationTimestamp` and fetched again after a 401.
public actor KubeCredentials {
    public enum Source: Sendable {
        case none
        case token(String)
        case tokenFile(String)
        /// The plugin, and the cluster it is told about when it asks (`provideClusterInfo`).
        case exec(Kubeconfig.NamedUser.ExecConfig, cluster: JSONValue)
    }

    let source: Source
    private let now: @Sendable () -> Date
    private var cached: (token: String, until: Date?)?
    private var fileReadAt: Date?

    /// How long a token read from a file is used before the file is read again.
    static let fileLifetime: TimeInterval = 60

    public init(_ source: Source, now: @escaping @Sendable () -> Date = Date.init) {
        self.source = source
        self.now = now
    }

    /// The token to send now, if any.
    public func bearer() async throws -> String? {
        switch source {
        case .none:
            return nil
        case .token(let token):
            return token
        case .tokenFile(let path):
            if let cached, let readAt = fileReadAt, now().timeIntervalSince(readAt) < Self.fileLifetime { return cached.token }
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw KubeconfigError("cannot read the token file \(path)") }
            cached = (text.trimmingCharacters(in: .whitespacesAndNewlines), nil)
            fileReadAt = now()
            return cached?.token
        case .exec(let config, let cluster):
            if let cached, cached.until.map({ $0 > now() }) ?? true { return cached.token }
            let credential = try await Self.run(config, cluster: cluster)
            cached = credential
            return credential.token
        }
    }

    /// Forgets what a 401 proved stale; true when asking again may give another credential.
    public func invalidate() -> Bool {
        switch source {
        case .exec, .tokenFile:
            cached = nil
            return true
        case .none, .token:
            return false
        }
    }

    /// Runs the plugin with `KUBERNETES_EXEC_INFO` and reads the `ExecCredential` it prints.
    static func run(_ config: Kubeconfig.NamedUser.ExecConfig, cluster: JSONValue) async throws -> (token: String, until: Date?) {
        var spec: JSONValue = ["interactive": false]
        if config.provideClusterInfo == true { spec["cluster"] = cluster }
        let info: JSONValue = ["kind": "ExecCredential", "apiVersion": .string(config.apiVersion), "spec": spec]
        var environment: [Environment.Key: String?] = [:]
        for variable in config.env ?? [] { environment[Environment.Key(stringLiteral: variable.name)] = variable.value }
        environment["KUBERNETES_EXEC_INFO"] = String(decoding: info.serialized(), as: UTF8.self)
        let executable: Executable = config.command.contains("/") ? .path(.init(config.command)) : .name(config.command)
        let result = try await Subprocess.run(
            executable, arguments: .init(config.args ?? []), environment: .inherit.updating(environment), input: .none,
            output: .bytes(limit: 1 << 20), error: .discarded)
        let output = result.standardOutput
        guard result.terminationStatus.isSuccess else {
            throw KubeconfigError("the credential plugin \(config.command) exited with \(result.terminationStatus)\(config.installHint.map { " (\($0))" } ?? "")")
        }
        guard let credential = try? JSONValue.parse(output), credential["kind"]?.stringValue == "ExecCredential" else {
            throw KubeconfigError("the credential plugin \(config.command) did not print an ExecCredential")
        }
        guard let token = credential["status"]?["token"]?.stringValue, !token.isEmpty else {
            throw KubeconfigError("the credential plugin \(config.command) gave no token (client certificates from plugins are not supported)")
        }
        let until = credential["status"]?["expirationTimestamp"]?.stringValue.flatMap { try? Date($0, strategy: .iso8601) }
        return (token, until)
    }
}
