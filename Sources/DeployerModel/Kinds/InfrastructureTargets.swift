/// API nodes reached over HTTP, each with an admin key.
public struct StaticTarget: Codable, Sendable, Hashable {
    public struct Node: Codable, Sendable, Hashable {
        public var name: String
        public var url: String
        public var adminKeySecretRef: SecretKeyRef
        public var tls: NodeTLS?
    }

    /// How the deployer speaks TLS to a node: the CA its certificate is checked against
    /// (default: the system's), and the client certificate its admin API may require (PEM).
    public struct NodeTLS: Codable, Sendable, Hashable {
        public var caSecretRef: SecretKeyRef?
        public var clientCertificateSecretRef: SecretKeyRef?
        public var clientKeySecretRef: SecretKeyRef?

        /// The secrets it names.
        public var references: [SecretKeyRef] { [caSecretRef, clientCertificateSecretRef, clientKeySecretRef].compactMap { $0 } }
    }

    public var nodes: [Node]

    static let schema: Schema = .object([
        .init(
            "nodes",
            .array(
                .object([
                    .init("name", .string(.init(pattern: .dnsLabel)), required: true),
                    .init("url", .string(.init(pattern: .httpURL)), required: true),
                    .init("adminKeySecretRef", SecretKeyRef.schema, required: true),
                    .init(
                        "tls",
                        .object([
                            .init("caSecretRef", SecretKeyRef.schema),
                            .init("clientCertificateSecretRef", SecretKeyRef.schema),
                            .init("clientKeySecretRef", SecretKeyRef.schema),
                        ])),
                ]), listMapKeys: ["name"], maxItems: 256),
            required: true)
    ])
}

/// API node pods in a Kubernetes cluster.
public struct KubernetesTarget: Codable, Sendable, Hashable {
    public struct Resources: Codable, Sendable, Hashable {
        public var requests: [String: JSONValue]?
        public var limits: [String: JSONValue]?
    }

    public struct Exposition: Codable, Sendable, Hashable {
        public var type: String
        public var host: String?
        public var pathPrefix: String?
        public var port: Int?
    }

    public struct Autoscaling: Codable, Sendable, Hashable {
        public var minReplicas: Int
        public var maxReplicas: Int
        public var targetCPUUtilizationPercentage: Int?
    }

    public var kubeconfigSecretRef: SecretKeyRef?
    public var namespace: String
    public var image: String
    public var replicas: Int
    public var resources: Resources?
    public var exposition: Exposition?
    public var autoscaling: Autoscaling?
    public var labels: [String: String]?
    public var annotations: [String: String]?
    /// Seconds a rollout of the pods may go without progress before it counts as failed.
    public var progressDeadlineSeconds: Int?

    static let schema: Schema = .object([
        .init("kubeconfigSecretRef", SecretKeyRef.schema),
        .init("namespace", .string(.init(pattern: .dnsLabel)), required: true),
        .init("image", .nonEmptyString, required: true),
        .init("replicas", .integer(minimum: 0, maximum: 1000), default: 1),
        .init("resources", .object([.init("requests", .map(.intOrString)), .init("limits", .map(.intOrString))])),
        .init(
            "exposition",
            .object([
                .init("type", .oneOf(["ClusterIP", "NodePort", "LoadBalancer", "Ingress"]), default: "ClusterIP"),
                .init("host", .string()),
                .init("pathPrefix", .string()),
                .init("port", .integer(minimum: 1, maximum: 65535)),
            ])),
        .init(
            "autoscaling",
            .object([
                .init("minReplicas", .integer(minimum: 1), required: true),
                .init("maxReplicas", .integer(minimum: 1), required: true),
                .init("targetCPUUtilizationPercentage", .integer(minimum: 1, maximum: 100)),
            ])),
        .init("labels", .map(.string())),
        .init("annotations", .map(.string())),
        .init("progressDeadlineSeconds", .integer(minimum: 10, maximum: 86400)),
    ])
}

/// An AWS SageMaker real-time endpoint.
public struct SageMakerTarget: Codable, Sendable, Hashable {
    public var region: String
    public var credentialsSecretRef: SecretRef
    public var executionRoleArn: String
    public var image: String
    public var artifactBucket: String
    public var instanceType: String
    public var instanceCount: Int
    public var endpointOverride: String?

    static let schema: Schema = .object([
        .init("region", .nonEmptyString, required: true),
        .init("credentialsSecretRef", SecretRef.schema, required: true),
        .init("executionRoleArn", .nonEmptyString, required: true),
        .init("image", .nonEmptyString, required: true),
        .init("artifactBucket", .nonEmptyString, required: true),
        .init("instanceType", .nonEmptyString, required: true),
        .init("instanceCount", .integer(minimum: 1), default: 1),
        .init("endpointOverride", .string(.init(pattern: .httpURL))),
    ])
}

/// An Azure Machine Learning managed online endpoint.
public struct AzureMLTarget: Codable, Sendable, Hashable {
    public var tenantId: String
    public var subscriptionId: String
    public var resourceGroup: String
    public var workspace: String
    public var credentialsSecretRef: SecretRef
    public var image: String
    public var instanceType: String
    public var instanceCount: Int
    public var endpointOverride: String?
    public var tokenEndpointOverride: String?

    static let schema: Schema = .object([
        .init("tenantId", .nonEmptyString, required: true),
        .init("subscriptionId", .nonEmptyString, required: true),
        .init("resourceGroup", .nonEmptyString, required: true),
        .init("workspace", .nonEmptyString, required: true),
        .init("credentialsSecretRef", SecretRef.schema, required: true),
        .init("image", .nonEmptyString, required: true),
        .init("instanceType", .nonEmptyString, required: true),
        .init("instanceCount", .integer(minimum: 1), default: 1),
        .init("endpointOverride", .string(.init(pattern: .httpURL))),
        .init("tokenEndpointOverride", .string(.init(pattern: .httpURL))),
    ])
}

/// A Google Vertex AI endpoint.
public struct VertexAITarget: Codable, Sendable, Hashable {
    public var project: String
    public var location: String
    public var credentialsSecretRef: SecretRef
    public var image: String
    public var artifactBucket: String
    public var machineType: String
    public var minReplicas: Int
    public var maxReplicas: Int
    public var endpointOverride: String?
    public var tokenEndpointOverride: String?

    static let schema: Schema = .object([
        .init("project", .nonEmptyString, required: true),
        .init("location", .nonEmptyString, required: true),
        .init("credentialsSecretRef", SecretRef.schema, required: true),
        .init("image", .nonEmptyString, required: true),
        .init("artifactBucket", .nonEmptyString, required: true),
        .init("machineType", .nonEmptyString, required: true),
        .init("minReplicas", .integer(minimum: 1), default: 1),
        .init("maxReplicas", .integer(minimum: 1), default: 1),
        .init("endpointOverride", .string(.init(pattern: .httpURL))),
        .init("tokenEndpointOverride", .string(.init(pattern: .httpURL))),
    ])
}

/// A Snowflake Snowpark Container Services service.
public struct SnowparkTarget: Codable, Sendable, Hashable {
    public var account: String
    public var user: String
    public var role: String
    public var database: String
    public var schema: String
    public var warehouse: String
    public var computePool: String
    public var imageRepository: String
    public var image: String
    public var credentialsSecretRef: SecretRef
    public var endpointOverride: String?

    static let schema: Schema = .object([
        .init("account", .nonEmptyString, required: true),
        .init("user", .nonEmptyString, required: true),
        .init("role", .nonEmptyString, required: true),
        .init("database", .nonEmptyString, required: true),
        .init("schema", .nonEmptyString, required: true),
        .init("warehouse", .nonEmptyString, required: true),
        .init("computePool", .nonEmptyString, required: true),
        .init("imageRepository", .nonEmptyString, required: true),
        .init("image", .nonEmptyString, required: true),
        .init("credentialsSecretRef", SecretRef.schema, required: true),
        .init("endpointOverride", .string(.init(pattern: .httpURL))),
    ])
}
