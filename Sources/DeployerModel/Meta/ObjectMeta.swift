/// Standard object metadata (`metav1.ObjectMeta`), as the typed views of our kinds see it.
public struct ObjectMeta: Codable, Sendable, Hashable {
    public var name: String
    public var generateName: String?
    public var namespace: String?
    public var uid: String?
    public var resourceVersion: String?
    public var generation: Int64?
    public var creationTimestamp: String?
    public var deletionTimestamp: String?
    public var deletionGracePeriodSeconds: Int64?
    public var labels: [String: String]?
    public var annotations: [String: String]?
    public var finalizers: [String]?
    public var ownerReferences: [OwnerReference]?
    public var managedFields: [JSONValue]?

    public init(name: String, namespace: String? = nil, labels: [String: String]? = nil) {
        self.name = name
        self.namespace = namespace
        self.labels = labels
    }
}

/// A reference to an owning object (`metav1.OwnerReference`).
public struct OwnerReference: Codable, Sendable, Hashable {
    public var apiVersion: String
    public var kind: String
    public var name: String
    public var uid: String
    public var controller: Bool?
    public var blockOwnerDeletion: Bool?

    public init(apiVersion: String, kind: String, name: String, uid: String, controller: Bool? = nil) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.uid = uid
        self.controller = controller
    }
}

extension ObjectMeta {
    /// The schema of the metadata fields a client may write; the server owns the rest.
    static let schema: Schema = .object([
        .init("name", .string(.init(maxLength: 253))),
        .init("generateName", .string()),
        .init("namespace", .string(.init(pattern: .dnsLabel))),
        .init("uid", .string()),
        .init("resourceVersion", .string()),
        .init("generation", .integer()),
        .init("creationTimestamp", .anyValue),
        .init("deletionTimestamp", .anyValue),
        .init("deletionGracePeriodSeconds", .integer()),
        .init("labels", .map(.string())),
        .init("annotations", .map(.string())),
        .init("finalizers", .array(.string())),
        .init(
            "ownerReferences",
            .array(
                .object([
                    .init("apiVersion", .string(), required: true),
                    .init("kind", .string(), required: true),
                    .init("name", .string(), required: true),
                    .init("uid", .string(), required: true),
                    .init("controller", .boolean),
                    .init("blockOwnerDeletion", .boolean),
                ]))),
        .init("managedFields", .array(.anyValue)),
        .init("selfLink", .string()),
    ])
}
