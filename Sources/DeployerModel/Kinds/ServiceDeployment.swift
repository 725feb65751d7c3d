/// One service, at one or more versions, on one infrastructure.
public struct ServiceDeployment: Codable, Sendable, Hashable {
    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: Status?

    public struct Spec: Codable, Sendable, Hashable {
        public var service: String
        public var infrastructure: String
        public var version: String?
        public var generations: Generations?
        public var enabled: Bool
        public var endpointTuning: [String: EndpointTuning]?
        public var testQueries: [TestQuery]?
        public var hooks: Hooks?
        /// Replaces the published service's `auth` for this deployment's targets.
        public var auth: PublishedService.Auth?
    }

    /// A traffic split between versions.
    public struct Generations: Codable, Sendable, Hashable {
        public enum Strategy: String, Codable, Sendable, Hashable, CaseIterable {
            case random = "Random"
            case hash = "Hash"
        }

        public struct Entry: Codable, Sendable, Hashable {
            public var version: String
            public var weight: Int
        }

        public var strategy: Strategy
        public var entries: [Entry]
    }

    /// Pool sizes and timeouts of one endpoint.
    public struct EndpointTuning: Codable, Sendable, Hashable {
        public var floor: Int?
        public var ceil: Int?
        public var cruise: Int?
        public var queue: Int?
        public var timeoutMs: Int?
    }

    /// One version and its share of the traffic.
    public struct ActiveGeneration: Codable, Sendable, Hashable {
        public var version: String
        public var weight: Int

        public init(version: String, weight: Int) {
            self.version = version
            self.weight = weight
        }
    }

    /// What one node or endpoint serves.
    public struct Target: Codable, Sendable, Hashable {
        public var name: String
        public var url: String?
        public var healthy: Bool
        public var generations: [String]?
        public var message: String?

        public init(name: String, url: String?, healthy: Bool, generations: [String]?, message: String?) {
            self.name = name
            self.url = url
            self.healthy = healthy
            self.generations = generations
            self.message = message
        }
    }

    /// The record of one rollout.
    public struct HistoryEntry: Codable, Sendable, Hashable {
        public struct HookResult: Codable, Sendable, Hashable {
            public var name: String
            public var phase: String
            public var result: String
            public var message: String?

            public init(name: String, phase: String, result: String, message: String?) {
                self.name = name
                self.phase = phase
                self.result = result
                self.message = message
            }
        }

        public var id: Int64
        /// The deployment generation this rollout brought to the targets.
        public var generation: Int64?
        /// What started it: `Spec`, `Retry` (the retry annotation changed) or `Drift`.
        public var trigger: String?
        /// The value of the `apideployer.dev/retry` annotation when it started.
        public var retry: String?
        public var requester: String?
        public var from: [String]
        public var to: [String]
        public var start: String
        public var end: String?
        public var outcome: String
        public var hooks: [HookResult]?
        public var log: [String]?

        public init(
            id: Int64, generation: Int64?, trigger: String?, retry: String?, requester: String?, from: [String], to: [String], start: String,
            end: String? = nil, outcome: String, hooks: [HookResult]? = nil, log: [String]? = nil
        ) {
            self.id = id
            self.generation = generation
            self.trigger = trigger
            self.retry = retry
            self.requester = requester
            self.from = from
            self.to = to
            self.start = start
            self.end = end
            self.outcome = outcome
            self.hooks = hooks
            self.log = log
        }
    }

    public struct Status: Codable, Sendable, Hashable {
        public var observedGeneration: Int64?
        public var conditions: [Condition]?
        public var activeGenerations: [ActiveGeneration]?
        public var targets: [Target]?
        public var history: [HistoryEntry]?
        /// The caller authentication last set on every target: its mode and a digest of its
        /// settings (so a change to the service's `auth` or to a key's secret is applied again).
        public var callerAuth: String?

        public init(
            observedGeneration: Int64?, conditions: [Condition]?, activeGenerations: [ServiceDeployment.ActiveGeneration]?,
            targets: [ServiceDeployment.Target]?, history: [ServiceDeployment.HistoryEntry]?
        ) {
            self.observedGeneration = observedGeneration
            self.conditions = conditions
            self.activeGenerations = activeGenerations
            self.targets = targets
            self.history = history
        }
    }

    static let specSchema: Schema = .object([
        .init("service", .string(.init(pattern: .dnsLabel)), required: true),
        .init("infrastructure", .string(.init(pattern: .dnsLabel)), required: true),
        .init("version", .string(.init(pattern: PublishedService.versionPattern))),
        .init(
            "generations",
            .object([
                .init("strategy", .oneOf(Generations.Strategy.allCases.map(\.rawValue)), default: "Random"),
                .init(
                    "entries",
                    .array(
                        .object([
                            .init("version", .string(.init(pattern: PublishedService.versionPattern)), required: true),
                            .init("weight", .integer(minimum: 0, maximum: 100), required: true),
                        ]), listMapKeys: ["version"], maxItems: 16),
                    required: true),
            ])),
        .init("enabled", .boolean, default: true),
        .init(
            "endpointTuning",
            .map(
                .object([
                    .init("floor", .integer(minimum: 0, maximum: 1024)),
                    .init("ceil", .integer(minimum: 1, maximum: 1024)),
                    .init("cruise", .integer(minimum: 0, maximum: 1024)),
                    .init("queue", .integer(minimum: 0, maximum: 1_000_000)),
                    .init("timeoutMs", .integer(minimum: 1, maximum: 3_600_000)),
                ]))),
        .init("testQueries", .array(TestQuery.schema)),
        .init("hooks", Hooks.schema),
        .init("auth", PublishedService.authSchema),
    ])

    static let statusProperties: [Schema.Property] =
        CommonStatus.properties + [
            .init("callerAuth", .string()),
            .init(
                "activeGenerations",
                .array(.object([.init("version", .string(), required: true), .init("weight", .integer(), required: true)]))),
            .init(
                "targets",
                .array(
                    .object([
                        .init("name", .string(), required: true),
                        .init("url", .string()),
                        .init("healthy", .boolean, required: true),
                        .init("generations", .array(.string())),
                        .init("message", .string()),
                    ]))),
            .init(
                "history",
                .array(
                    .object([
                        .init("id", .integer(), required: true),
                        .init("generation", .integer()),
                        .init("trigger", .string()),
                        .init("retry", .string()),
                        .init("requester", .string()),
                        .init("from", .array(.string()), required: true),
                        .init("to", .array(.string()), required: true),
                        .init("start", .string(), required: true),
                        .init("end", .string()),
                        .init("outcome", .string(), required: true),
                        .init(
                            "hooks",
                            .array(
                                .object([
                                    .init("name", .string(), required: true),
                                    .init("phase", .string(), required: true),
                                    .init("result", .string(), required: true),
                                    .init("message", .string()),
                                ]))),
                        .init("log", .array(.string())),
                    ]), maxItems: 20)),
        ]

    /// Checks the version choice and the traffic split.
    static func validateVersions(_ spec: JSONValue, at path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        let hasVersion = spec["version"] != nil
        let generations = spec["generations"]
        if hasVersion, generations != nil {
            errors.append(
                FieldError(.forbidden, field: path.child("generations").description, detail: "give either version or generations, not both"))
        } else if !hasVersion, generations == nil {
            errors.append(FieldError(.required, field: path.child("version").description, detail: "give version or generations"))
        }
        if let entries = generations?["entries"]?.arrayValue {
            let entriesPath = path.child("generations").child("entries")
            if entries.isEmpty {
                errors.append(FieldError(.required, field: entriesPath.description, detail: "at least one entry"))
            }
            let total = entries.compactMap { $0["weight"]?.intValue }.reduce(0, +)
            if !entries.isEmpty, total != 100 {
                errors.append(
                    FieldError(.invalid, field: entriesPath.description, value: .int(total), detail: "weights must add up to 100"))
            }
        }
        return errors
    }
}
