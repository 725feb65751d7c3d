/// One kind of the `apideployer.dev` API: its names, schema, printer columns and checks.
public struct ResourceKind: Sendable {
    public static let group = "apideployer.dev"
    public static let version = "v1alpha1"
    public static let apiVersion = "\(group)/\(version)"

    public let kind: String
    public let plural: String
    public let singular: String
    public let shortNames: [String]
    /// Whether `status` is written only through the `/status` subresource.
    public let hasStatus: Bool
    /// The top-level members other than apiVersion, kind and metadata.
    public let bodyProperties: [Schema.Property]
    public let printerColumns: [PrinterColumn]
    let semanticChecks: @Sendable (JSONValue) -> [FieldError]

    /// `<Kind>List`.
    public var listKind: String { kind + "List" }
    /// `<plural>.<group>`, how messages and CRDs name the resource.
    public var qualifiedResource: String { "\(plural).\(Self.group)" }
    /// `<Kind>.<group>`, how validation messages name the kind.
    public var qualifiedKind: String { "\(kind).\(Self.group)" }

    /// The schema of a whole object of this kind.
    public var schema: Schema {
        .object(
            [
                .init("apiVersion", .string()),
                .init("kind", .string()),
                .init("metadata", ObjectMeta.schema),
            ] + bodyProperties)
    }

    /// The schema of the `status` member, if the kind has one.
    public var statusSchema: Schema? { bodyProperties.first { $0.name == "status" }?.schema }
}

/// A column of `kubectl get` output, from a JSONPath into the object.
public struct PrinterColumn: Sendable {
    public let name: String
    public let type: String
    public let jsonPath: String
    public let priority: Int
    public let description: String

    public init(_ name: String, type: String = "string", jsonPath: String, priority: Int = 0, description: String = "") {
        self.name = name
        self.type = type
        self.jsonPath = jsonPath
        self.priority = priority
        self.description = description
    }

    static func condition(_ type: String, field: String, name: String, priority: Int = 0) -> PrinterColumn {
        PrinterColumn(name, jsonPath: ".status.conditions[?(@.type==\"\(type)\")].\(field)", priority: priority)
    }

    static let age = PrinterColumn("Age", type: "date", jsonPath: ".metadata.creationTimestamp")
}

extension ResourceKind {
    public static let stage = ResourceKind(
        kind: "Stage", plural: "stages", singular: "stage", shortNames: ["stg"], hasStatus: true,
        bodyProperties: [
            .init("spec", Stage.specSchema, required: true),
            .init("status", .object(CommonStatus.properties)),
        ],
        printerColumns: [
            PrinterColumn("Display Name", jsonPath: ".spec.displayName"),
            PrinterColumn("Order", type: "integer", jsonPath: ".spec.order"), .age,
        ],
        semanticChecks: { _ in [] })

    public static let infrastructure = ResourceKind(
        kind: "Infrastructure", plural: "infrastructures", singular: "infrastructure", shortNames: ["infra"],
        hasStatus: true,
        bodyProperties: [
            .init("spec", Infrastructure.specSchema, required: true),
            .init("status", .object(Infrastructure.statusProperties)),
        ],
        printerColumns: [
            PrinterColumn("Stage", jsonPath: ".spec.stage"),
            PrinterColumn("Type", jsonPath: ".spec.type"),
            .condition("Ready", field: "status", name: "Ready"),
            .condition("Ready", field: "reason", name: "Reason"),
            .age,
            .condition("Ready", field: "message", name: "Message", priority: 1),
        ],
        semanticChecks: { object in
            object["spec"].map { Infrastructure.validateTypedBlock($0, at: FieldPath("spec")) } ?? []
        })

    public static let publishedService = ResourceKind(
        kind: "PublishedService", plural: "publishedservices", singular: "publishedservice", shortNames: ["psvc"],
        hasStatus: true,
        bodyProperties: [
            .init("spec", PublishedService.specSchema, required: true),
            .init("status", .object(CommonStatus.properties)),
        ],
        printerColumns: [
            PrinterColumn("Display Name", jsonPath: ".spec.displayName"),
            PrinterColumn("Versions", jsonPath: ".spec.versions[*].version"),
            PrinterColumn("Auth", jsonPath: ".spec.auth.mode", priority: 1), .age,
        ],
        semanticChecks: { object in
            object["spec"].map { PublishedService.validateAuth($0, at: FieldPath("spec")) } ?? []
        })

    public static let serviceDeployment = ResourceKind(
        kind: "ServiceDeployment", plural: "servicedeployments", singular: "servicedeployment", shortNames: ["sdep"],
        hasStatus: true,
        bodyProperties: [
            .init("spec", ServiceDeployment.specSchema, required: true),
            .init("status", .object(ServiceDeployment.statusProperties)),
        ],
        printerColumns: [
            PrinterColumn("Service", jsonPath: ".spec.service"),
            PrinterColumn("Infrastructure", jsonPath: ".spec.infrastructure"),
            PrinterColumn("Versions", jsonPath: ".status.activeGenerations[*].version"),
            .condition("Ready", field: "status", name: "Ready"),
            .condition("Ready", field: "reason", name: "Reason"),
            .age,
            PrinterColumn("Desired", jsonPath: ".spec.version", priority: 1),
            .condition("Ready", field: "message", name: "Message", priority: 1),
        ],
        semanticChecks: { object in
            object["spec"].map { ServiceDeployment.validateVersions($0, at: FieldPath("spec")) + PublishedService.validateAuth($0, at: FieldPath("spec")) } ?? []
        })

    public static let secret = ResourceKind(
        kind: "Secret", plural: "secrets", singular: "secret", shortNames: [], hasStatus: false,
        bodyProperties: Secret.properties,
        printerColumns: [PrinterColumn("Type", jsonPath: ".type"), .age],
        semanticChecks: { _ in [] })

    public static let lease = ResourceKind(
        kind: "Lease", plural: "leases", singular: "lease", shortNames: [], hasStatus: false,
        bodyProperties: [.init("spec", Lease.specSchema, required: true)],
        printerColumns: [PrinterColumn("Holder", jsonPath: ".spec.holderIdentity"), .age],
        semanticChecks: { _ in [] })

    /// Every kind the API serves.
    public static let all: [ResourceKind] = [stage, infrastructure, publishedService, serviceDeployment, secret, lease]

    /// Finds a kind by plural, singular, short name or Kind (case-insensitive), as kubectl resolves them.
    public static func lookup(_ name: String) -> ResourceKind? {
        let lowered = name.lowercased()
        return all.first {
            $0.plural == lowered || $0.singular == lowered || $0.shortNames.contains(lowered)
                || $0.kind.lowercased() == lowered
        }
    }

    /// Finds a kind by its exact `kind` value.
    public static func byKind(_ kind: String) -> ResourceKind? { all.first { $0.kind == kind } }

    /// Finds a kind by its plural resource name.
    public static func byPlural(_ plural: String) -> ResourceKind? { all.first { $0.plural == plural } }
}

extension ResourceKind: Hashable {
    public static func == (lhs: ResourceKind, rhs: ResourceKind) -> Bool { lhs.kind == rhs.kind }
    public func hash(into hasher: inout Hasher) { hasher.combine(kind) }
}
