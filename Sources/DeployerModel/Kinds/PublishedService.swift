/// A versioned API service: its packages, who may use it, and how callers authenticate.
public struct PublishedService: Codable, Sendable, Hashable {
    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: CommonStatus?

    public struct Spec: Codable, Sendable, Hashable {
        public var displayName: String?
        public var description: String?
        public var versions: [Version]
        public var auth: Auth?
        public var permissions: [Permission]?
    }

    /// One version and the package that holds it.
    public struct Version: Codable, Sendable, Hashable {
        public struct Package: Codable, Sendable, Hashable {
            public var sha256: String
            /// Where to fetch it; nil means the deployer's own package store.
            public var url: String?
        }

        public var version: String
        public var package: Package
    }

    /// How callers of the deployed endpoints authenticate.
    public struct Auth: Codable, Sendable, Hashable {
        public struct APIKey: Codable, Sendable, Hashable {
            public var secretRef: SecretKeyRef
            public var endpoints: [String]?
        }

        public struct JWT: Codable, Sendable, Hashable {
            public var issuer: String
            public var audience: String
            public var jwksURL: String?
            public var jwksSecretRef: SecretKeyRef?
            public var scope: String?
        }

        public var mode: String
        public var apiKeys: [APIKey]?
        public var jwt: JWT?
    }

    /// What a group may do with this service.
    public struct Permission: Codable, Sendable, Hashable {
        public var group: String
        public var read: Bool?
        public var write: Bool?
        public var deploy: Bool?
        public var admin: Bool?
    }

    static let versionPattern = Schema.Pattern(
        regex: "^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$",
        explanation: "must be alphanumeric with '-', '_' or '.' inside, at most 63 characters",
        matches: { NameRules.isQualifiedName($0) && !$0.contains("/") }
    )

    static let specSchema: Schema = .object([
        .init("displayName", .string()),
        .init("description", .string()),
        .init(
            "versions",
            .array(
                .object([
                    .init("version", .string(.init(pattern: versionPattern)), required: true),
                    .init(
                        "package",
                        .object([
                            .init("sha256", .string(.init(pattern: .sha256)), required: true),
                            .init("url", .string(.init(pattern: .httpURL))),
                        ]), required: true),
                ]), listMapKeys: ["version"]),
            required: true),
        .init("auth", authSchema),
        .init(
            "permissions",
            .array(
                .object([
                    .init("group", .nonEmptyString, required: true),
                    .init("read", .boolean),
                    .init("write", .boolean),
                    .init("deploy", .boolean),
                    .init("admin", .boolean),
                ]), listMapKeys: ["group"])),
    ])

    /// How callers authenticate: a published service's `auth`, or a deployment's override.
    static let authSchema: Schema = .object([
        .init("mode", .oneOf(["public", "apiKeys", "jwt"]), default: "public"),
        .init(
            "apiKeys",
            .array(
                .object([
                    .init("secretRef", SecretKeyRef.schema, required: true),
                    .init("endpoints", .array(.nonEmptyString)),
                ]))),
        .init(
            "jwt",
            .object([
                .init("issuer", .nonEmptyString, required: true),
                .init("audience", .nonEmptyString, required: true),
                .init("jwksURL", .string(.init(pattern: .httpURL))),
                .init("jwksSecretRef", SecretKeyRef.schema),
                .init("scope", .string()),
            ])),
    ])

    /// Checks that the auth block matches its mode.
    static func validateAuth(_ spec: JSONValue, at path: FieldPath) -> [FieldError] {
        guard let auth = spec["auth"], let mode = auth["mode"]?.stringValue else { return [] }
        let authPath = path.child("auth")
        var errors: [FieldError] = []
        if mode == "apiKeys", (auth["apiKeys"]?.arrayValue ?? []).isEmpty {
            errors.append(FieldError(.required, field: authPath.child("apiKeys").description, detail: "auth.mode is \"apiKeys\""))
        }
        if mode == "jwt", auth["jwt"] == nil {
            errors.append(FieldError(.required, field: authPath.child("jwt").description, detail: "auth.mode is \"jwt\""))
        }
        if let jwt = auth["jwt"], jwt["jwksURL"] == nil, jwt["jwksSecretRef"] == nil {
            errors.append(
                FieldError(.required, field: authPath.child("jwt").child("jwksURL").description, detail: "give jwksURL or jwksSecretRef"))
        }
        return errors
    }
}
