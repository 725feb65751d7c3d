/// A structural OpenAPI v3 schema, written once per kind in Swift and used for strict
/// validation, defaulting, the CRDs and the OpenAPI document the API server publishes.
public indirect enum Schema: Sendable {
    case object([Property])
    case array(Schema, listMapKeys: [String]? = nil, maxItems: Int? = nil)
    case map(Schema)
    case string(StringRules = StringRules())
    case integer(minimum: Int64? = nil, maximum: Int64? = nil)
    case number(minimum: Double? = nil)
    case boolean
    /// Any JSON value (`x-kubernetes-preserve-unknown-fields`), such as a test query body.
    case anyValue
    /// An integer or a string (`x-kubernetes-int-or-string`).
    case intOrString
    /// Carries a description alongside a schema.
    case documented(String, Schema)

    /// Rules for a string.
    public struct StringRules: Sendable {
        public var allowed: [String]?
        public var pattern: Pattern?
        public var minLength: Int?
        public var maxLength: Int?
        public var format: String?

        public init(
            allowed: [String]? = nil, pattern: Pattern? = nil, minLength: Int? = nil, maxLength: Int? = nil,
            format: String? = nil
        ) {
            self.allowed = allowed
            self.pattern = pattern
            self.minLength = minLength
            self.maxLength = maxLength
            self.format = format
        }
    }

    /// A named string check with a regular expression for the published schema.
    public struct Pattern: Sendable {
        public let regex: String
        public let explanation: String
        public let matches: @Sendable (String) -> Bool
    }

    /// One member of an object schema.
    public struct Property: Sendable {
        public let name: String
        public let schema: Schema
        public let required: Bool
        public let defaultValue: JSONValue?

        public init(_ name: String, _ schema: Schema, required: Bool = false, default defaultValue: JSONValue? = nil) {
            self.name = name
            self.schema = schema
            self.required = required
            self.defaultValue = defaultValue
        }
    }

    /// The schema without its description.
    public var unwrapped: Schema {
        if case .documented(_, let inner) = self { return inner.unwrapped }
        return self
    }

    /// A string limited to the listed values.
    public static func oneOf(_ values: [String]) -> Schema { .string(StringRules(allowed: values)) }

    /// A string that must not be empty.
    public static var nonEmptyString: Schema { .string(StringRules(minLength: 1)) }
}

extension Schema.Pattern {
    /// A DNS-1123 label: lowercase alphanumerics and '-', at most 63 characters.
    public static let dnsLabel = Schema.Pattern(
        regex: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
        explanation: "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
        matches: NameRules.isDNSLabel
    )

    /// A duration such as `30s`, `5m`, `1h30m`.
    public static let duration = Schema.Pattern(
        regex: "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$",
        explanation: "must be a duration such as 30s, 5m or 1h30m",
        matches: { Duration(kubernetesString: $0) != nil }
    )

    /// A hex-encoded SHA-256 digest.
    public static let sha256 = Schema.Pattern(
        regex: "^[0-9a-f]{64}$",
        explanation: "must be 64 lowercase hexadecimal characters",
        matches: { $0.utf8.count == 64 && $0.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) } }
    )

    /// An absolute http or https URL.
    public static let httpURL = Schema.Pattern(
        regex: "^https?://.+",
        explanation: "must be an absolute http:// or https:// URL",
        matches: { ($0.hasPrefix("http://") || $0.hasPrefix("https://")) && $0.count > 8 && !$0.contains(" ") }
    )
}
