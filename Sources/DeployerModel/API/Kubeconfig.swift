/// A kubeconfig file (`clientcmd/api/v1`): clusters (server, CA), users (token or token file,
/// client certificate and key, exec credential plugin) and contexts.
public struct Kubeconfig: Codable, Sendable {
    public struct NamedCluster: Codable, Sendable {
        public struct Cluster: Codable, Sendable {
            public var server: String
            public var certificateAuthorityData: String?
            public var certificateAuthority: String?
            public var insecureSkipTLSVerify: Bool?

            public init(server: String, certificateAuthorityData: String? = nil, certificateAuthority: String? = nil) {
                self.server = server
                self.certificateAuthorityData = certificateAuthorityData
                self.certificateAuthority = certificateAuthority
            }

            enum CodingKeys: String, CodingKey {
                case server
                case certificateAuthorityData = "certificate-authority-data"
                case certificateAuthority = "certificate-authority"
                case insecureSkipTLSVerify = "insecure-skip-tls-verify"
            }
        }

        public var name: String
        public var cluster: Cluster
    }

    public struct NamedUser: Codable, Sendable {
        public struct User: Codable, Sendable {
            public var token: String?
            public var tokenFile: String?
            public var clientCertificateData: String?
            public var clientKeyData: String?
            public var clientCertificate: String?
            public var clientKey: String?
            public var exec: ExecConfig?

            public init(token: String? = nil) { self.token = token }

            enum CodingKeys: String, CodingKey {
                case token, tokenFile, exec
                case clientCertificateData = "client-certificate-data"
                case clientKeyData = "client-key-data"
                case clientCertificate = "client-certificate"
                case clientKey = "client-key"
            }
        }

        /// An exec credential plugin (`client.authentication.k8s.io/v1`).
        public struct ExecConfig: Codable, Sendable {
            public struct Variable: Codable, Sendable {
                public var name: String
                public var value: String
            }

            public var apiVersion: String
            public var command: String
            public var args: [String]?
            public var env: [Variable]?
            public var interactiveMode: String?
            public var provideClusterInfo: Bool?
            public var installHint: String?

            public init(
                apiVersion: String, command: String, args: [String]? = nil, env: [Variable]? = nil, interactiveMode: String? = nil,
                provideClusterInfo: Bool? = nil, installHint: String? = nil
            ) {
                self.apiVersion = apiVersion
                self.command = command
                self.args = args
                self.env = env
                self.interactiveMode = interactiveMode
                self.provideClusterInfo = provideClusterInfo
                self.installHint = installHint
            }
        }

        public var name: String
        public var user: User
    }

    public struct NamedContext: Codable, Sendable {
        public struct Context: Codable, Sendable {
            public var cluster: String
            public var user: String
            public var namespace: String?
        }

        public var name: String
        public var context: Context
    }

    public var apiVersion: String
    public var kind: String
    public var clusters: [NamedCluster]
    public var users: [NamedUser]
    public var contexts: [NamedContext]
    public var currentContext: String?

    enum CodingKeys: String, CodingKey {
        case apiVersion, kind, clusters, users, contexts
        case currentContext = "current-context"
    }

    /// A kubeconfig with one cluster, user and context.
    public init(name: String, server: String, certificateAuthorityData: String?, token: String, namespace: String = "default") {
        apiVersion = "v1"
        kind = "Config"
        clusters = [NamedCluster(name: name, cluster: .init(server: server, certificateAuthorityData: certificateAuthorityData))]
        users = [NamedUser(name: name + "-admin", user: .init(token: token))]
        contexts = [NamedContext(name: name, context: .init(cluster: name, user: name + "-admin", namespace: namespace))]
        currentContext = name
    }

    /// What the current (or named) context points at.
    public func resolve(context name: String? = nil) throws -> (cluster: NamedCluster.Cluster, user: NamedUser.User, namespace: String) {
        guard let contextName = name ?? currentContext, let context = contexts.first(where: { $0.name == contextName }) else {
            throw KubeconfigError("no context \"\(name ?? currentContext ?? "")\" in the kubeconfig")
        }
        guard let cluster = clusters.first(where: { $0.name == context.context.cluster }) else {
            throw KubeconfigError("context \"\(contextName)\" names an unknown cluster \"\(context.context.cluster)\"")
        }
        let user = users.first { $0.name == context.context.user }?.user ?? NamedUser.User(token: nil)
        return (cluster.cluster, user, context.context.namespace ?? "default")
    }
}

/// A problem with a kubeconfig file.
public struct KubeconfigError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
