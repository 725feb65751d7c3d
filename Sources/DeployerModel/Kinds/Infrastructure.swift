/// Where API services run: one typed target plus logging, permissions and hooks.
public struct Infrastructure: Codable, Sendable, Hashable {
    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: Status?

    /// The desired state of an infrastructure.
    public struct Spec: Sendable, Hashable {
        public var stage: String
        /// The typed block for `spec.type`; one enum case instead of six optional pointers.
        public var target: Target
        public var logging: Logging?
        public var permissions: [Permission]?
        public var hooks: Hooks?
        public var resyncPeriod: String
    }

    /// The infrastructure types with their settings.
    public enum Target: Sendable, Hashable {
        case `static`(StaticTarget)
        case kubernetes(KubernetesTarget)
        case sagemaker(SageMakerTarget)
        case azureml(AzureMLTarget)
        case vertexai(VertexAITarget)
        case snowpark(SnowparkTarget)

        /// The value of `spec.type`.
        public var typeName: String {
            switch self {
            case .static: "static"
            case .kubernetes: "kubernetes"
            case .sagemaker: "sagemaker"
            case .azureml: "azureml"
            case .vertexai: "vertexai"
            case .snowpark: "snowpark"
            }
        }
    }

    /// Query logging to an event server.
    public struct Logging: Codable, Sendable, Hashable {
        public struct EventServer: Codable, Sendable, Hashable {
            public var url: String
            public var authKeySecretRef: SecretKeyRef?
        }

        public var eventServer: EventServer?
        /// `FromDeploymentName` or a fixed routing key.
        public var routingKey: String
        public var logQueries: Bool
    }

    /// What a group may do with this infrastructure.
    public struct Permission: Codable, Sendable, Hashable {
        public var group: String
        public var view: Bool?
        public var deploy: Bool?
        public var admin: Bool?
    }

    /// Health of one node or endpoint as last probed.
    public struct TargetHealth: Codable, Sendable, Hashable {
        public var name: String
        public var url: String?
        public var healthy: Bool
        public var message: String?
        public var lastProbeTime: String?

        public init(name: String, url: String?, healthy: Bool, message: String?, lastProbeTime: String?) {
            self.name = name
            self.url = url
            self.healthy = healthy
            self.message = message
            self.lastProbeTime = lastProbeTime
        }
    }

    /// What the controller observed.
    public struct Status: Codable, Sendable, Hashable {
        public var observedGeneration: Int64?
        public var conditions: [Condition]?
        public var targets: [TargetHealth]?

        public init(observedGeneration: Int64?, conditions: [Condition]?, targets: [Infrastructure.TargetHealth]?) {
            self.observedGeneration = observedGeneration
            self.conditions = conditions
            self.targets = targets
        }
    }
}

extension Infrastructure.Spec: Codable {
    private enum CodingKeys: String, CodingKey {
        case stage, type, logging, permissions, hooks, resyncPeriod
        case `static`, kubernetes, sagemaker, azureml, vertexai, snowpark
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        stage = try container.decode(String.self, forKey: .stage)
        logging = try container.decodeIfPresent(Infrastructure.Logging.self, forKey: .logging)
        permissions = try container.decodeIfPresent([Infrastructure.Permission].self, forKey: .permissions)
        hooks = try container.decodeIfPresent(Hooks.self, forKey: .hooks)
        resyncPeriod = try container.decodeIfPresent(String.self, forKey: .resyncPeriod) ?? "5m"
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "static": target = .static(try container.decode(StaticTarget.self, forKey: .static))
        case "kubernetes": target = .kubernetes(try container.decode(KubernetesTarget.self, forKey: .kubernetes))
        case "sagemaker": target = .sagemaker(try container.decode(SageMakerTarget.self, forKey: .sagemaker))
        case "azureml": target = .azureml(try container.decode(AzureMLTarget.self, forKey: .azureml))
        case "vertexai": target = .vertexai(try container.decode(VertexAITarget.self, forKey: .vertexai))
        case "snowpark": target = .snowpark(try container.decode(SnowparkTarget.self, forKey: .snowpark))
        default:
            throw DecodingError.dataCorruptedError(forKey: .type, in: container, debugDescription: "unknown type \(type)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(stage, forKey: .stage)
        try container.encode(target.typeName, forKey: .type)
        try container.encodeIfPresent(logging, forKey: .logging)
        try container.encodeIfPresent(permissions, forKey: .permissions)
        try container.encodeIfPresent(hooks, forKey: .hooks)
        try container.encode(resyncPeriod, forKey: .resyncPeriod)
        switch target {
        case .static(let block): try container.encode(block, forKey: .static)
        case .kubernetes(let block): try container.encode(block, forKey: .kubernetes)
        case .sagemaker(let block): try container.encode(block, forKey: .sagemaker)
        case .azureml(let block): try container.encode(block, forKey: .azureml)
        case .vertexai(let block): try container.encode(block, forKey: .vertexai)
        case .snowpark(let block): try container.encode(block, forKey: .snowpark)
        }
    }
}

extension Infrastructure {
    /// The names of the typed blocks, which are also the values of `spec.type`.
    public static let typeNames = ["static", "kubernetes", "sagemaker", "azureml", "vertexai", "snowpark"]

    static let specSchema: Schema = .object(
        [
            .init("stage", .string(.init(pattern: .dnsLabel)), required: true),
            .init("type", .oneOf(typeNames), required: true),
            .init("static", StaticTarget.schema),
            .init("kubernetes", KubernetesTarget.schema),
            .init("sagemaker", SageMakerTarget.schema),
            .init("azureml", AzureMLTarget.schema),
            .init("vertexai", VertexAITarget.schema),
            .init("snowpark", SnowparkTarget.schema),
            .init(
                "logging",
                .object([
                    .init(
                        "eventServer",
                        .object([
                            .init("url", .string(.init(pattern: .httpURL)), required: true),
                            .init("authKeySecretRef", SecretKeyRef.schema),
                        ])),
                    .init("routingKey", .nonEmptyString, default: "FromDeploymentName"),
                    .init("logQueries", .boolean, default: true),
                ])),
            .init(
                "permissions",
                .array(
                    .object([
                        .init("group", .nonEmptyString, required: true),
                        .init("view", .boolean),
                        .init("deploy", .boolean),
                        .init("admin", .boolean),
                    ]), listMapKeys: ["group"])),
            .init("hooks", Hooks.schema),
            .init("resyncPeriod", .string(.init(pattern: .duration)), default: "5m"),
        ])

    static let statusProperties: [Schema.Property] =
        CommonStatus.properties + [
            .init(
                "targets",
                .array(
                    .object([
                        .init("name", .string(), required: true),
                        .init("url", .string()),
                        .init("healthy", .boolean, required: true),
                        .init("message", .string()),
                        .init("lastProbeTime", .string()),
                    ])))
        ]

    /// Checks that only the block named by `spec.type` is present, and that it is present.
    static func validateTypedBlock(_ spec: JSONValue, at path: FieldPath) -> [FieldError] {
        guard let type = spec["type"]?.stringValue, typeNames.contains(type) else { return [] }
        var errors: [FieldError] = []
        if spec[type] == nil {
            errors.append(FieldError(.required, field: path.child(type).description, detail: "spec.type is \"\(type)\""))
        }
        for other in typeNames where other != type && spec[other] != nil {
            errors.append(
                FieldError(
                    .forbidden, field: path.child(other).description,
                    detail: "only the \"\(type)\" block may be set when spec.type is \"\(type)\""))
        }
        for (index, node) in (spec["static"]?["nodes"]?.arrayValue ?? []).enumerated() {
            guard let tls = node["tls"], (tls["clientCertificateSecretRef"] == nil) != (tls["clientKeySecretRef"] == nil) else { continue }
            errors.append(
                FieldError(
                    .required, field: path.child("static").child("nodes").index(index).child("tls").description,
                    detail: "clientCertificateSecretRef and clientKeySecretRef go together"))
        }
        return errors
    }
}

extension Infrastructure.Spec {
    /// `resyncPeriod` as a duration (5 minutes if it cannot be read).
    public var resyncDuration: Duration { Duration(kubernetesString: resyncPeriod) ?? .seconds(300) }
}
