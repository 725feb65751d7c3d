/// A kubeconfig file (`clientcmd/api/v1`): the subset our server writes and our CLI reads.
public struct Kubeconfig: Codable, Sendable {
    public struct NamedCluster: Codable, Sendable {
        public struct Cluster: Codable, Sendable {
            public var server: String
            public var certificateAuthorityData: String?
            public var certificateAuthority: String?
            public var insecureSkipTLSVerify: Bool?

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
