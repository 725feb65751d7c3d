/// A reference to one key of a Secret in the same namespace.
public struct SecretKeyRef: Codable, Sendable, Hashable {
    public var name: String
    public var key: String

    public init(name: String, key: String) {
        self.name = name
        self.key = key
    }

    static let schema: Schema = .object([
        .init("name", .string(.init(pattern: .dnsLabel)), required: true),
        .init("key", .nonEmptyString, required: true),
    ])
}

/// A reference to a whole Secret in the same namespace (credentials with several keys).
public struct SecretRef: Codable, Sendable, Hashable {
    public var name: String

    static let schema: Schema = .object([.init("name", .string(.init(pattern: .dnsLabel)), required: true)])
}

/// What a hook does when it fails.
public enum FailurePolicy: String, Codable, Sendable, Hashable, CaseIterable {
    case fail = "Fail"
    case warn = "Warn"
    case ignore = "Ignore"
}

/// A hook run at one transition of a deployment.
public struct Hook: Codable, Sendable, Hashable {
    /// Runs a command with the transition as JSON on standard input.
    public struct Exec: Codable, Sendable, Hashable {
        public var command: [String]
        public var timeoutSeconds: Int
        public var env: [String: String]?
    }

    /// Posts the transition as a signed webhook.
    public struct HTTP: Codable, Sendable, Hashable {
        public var url: String
        public var secretRef: SecretKeyRef?
        public var timeoutSeconds: Int
    }

    public var name: String
    public var exec: Exec?
    public var http: HTTP?
    public var testQueries: [TestQuery]?
    public var failurePolicy: FailurePolicy

    static let schema: Schema = .object([
        .init("name", .string(.init(pattern: .dnsLabel)), required: true),
        .init(
            "exec",
            .object([
                .init("command", .array(.nonEmptyString), required: true),
                .init("timeoutSeconds", .integer(minimum: 1, maximum: 3600), default: 30),
                .init("env", .map(.string())),
            ])),
        .init(
            "http",
            .object([
                .init("url", .string(.init(pattern: .httpURL)), required: true),
                .init("secretRef", SecretKeyRef.schema),
                .init("timeoutSeconds", .integer(minimum: 1, maximum: 3600), default: 30),
            ])),
        .init("testQueries", .array(TestQuery.schema)),
        .init("failurePolicy", .oneOf(FailurePolicy.allCases.map(\.rawValue)), default: "Fail"),
    ])
}

/// Hooks per transition.
public struct Hooks: Codable, Sendable, Hashable {
    public var preDeploy: [Hook]?
    public var postDeploy: [Hook]?
    public var preDelete: [Hook]?
    public var postDelete: [Hook]?

    static let phases = ["preDeploy", "postDeploy", "preDelete", "postDelete"]

    static let schema: Schema = .object(phases.map { .init($0, .array(Hook.schema, listMapKeys: ["name"])) })

    public init(preDeploy: [Hook]?, postDeploy: [Hook]?, preDelete: [Hook]?, postDelete: [Hook]?) {
        self.preDeploy = preDeploy
        self.postDeploy = postDeploy
        self.preDelete = preDelete
        self.postDelete = postDelete
    }
}

/// A query sent to a deployed endpoint, with the answer it should give.
public struct TestQuery: Codable, Sendable, Hashable {
    public var endpoint: String
    /// The public API verb; default `predict` (`run` for function endpoints, `query` for SQL,
    /// `lookup` for lookups).
    public var verb: String?
    public var query: JSONValue
    public var expect: JSONValue?

    /// The verbs a test query may use.
    public static let verbs = ["predict", "predict-multi", "run", "query", "lookup", "lookup-multi"]

    static let schema: Schema = .object([
        .init("endpoint", .nonEmptyString, required: true),
        .init("verb", .oneOf(verbs)),
        .init("query", .anyValue, required: true),
        .init("expect", .anyValue),
    ])
}

/// The status every kind shares: what the controller observed.
public struct CommonStatus: Codable, Sendable, Hashable {
    public var observedGeneration: Int64?
    public var conditions: [Condition]?

    static let properties: [Schema.Property] = [
        .init("observedGeneration", .integer(minimum: 0)),
        .init("conditions", Condition.listSchema),
    ]
}
