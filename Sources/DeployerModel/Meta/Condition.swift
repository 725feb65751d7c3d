/// A status condition (`metav1.Condition`). `lastTransitionTime` changes only when `status` does.
public struct Condition: Codable, Sendable, Hashable {
    /// The condition status values.
    public enum Status: String, Codable, Sendable, Hashable {
        case `true` = "True"
        case `false` = "False"
        case unknown = "Unknown"
    }

    public var type: String
    public var status: Status
    public var observedGeneration: Int64?
    public var lastTransitionTime: String
    public var reason: String
    public var message: String

    public init(
        type: String, status: Status, reason: String, message: String = "", observedGeneration: Int64?,
        lastTransitionTime: String
    ) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
        self.observedGeneration = observedGeneration
        self.lastTransitionTime = lastTransitionTime
    }

    /// The condition types every kind uses (kstatus compatible).
    public enum Kind {
        public static let ready = "Ready"
        public static let reconciling = "Reconciling"
        public static let stalled = "Stalled"
        public static let degraded = "Degraded"
    }

    static let schema: Schema = .object([
        .init("type", .string(.init(maxLength: 316)), required: true),
        .init("status", .oneOf(["True", "False", "Unknown"]), required: true),
        .init("observedGeneration", .integer(minimum: 0)),
        .init("lastTransitionTime", .string(.init(format: "date-time")), required: true),
        .init("reason", .string(.init(minLength: 1, maxLength: 1024)), required: true),
        .init("message", .string(.init(maxLength: 32768)), required: true),
    ])

    /// The schema of a `conditions` list: a map list keyed by `type`.
    static let listSchema: Schema = .array(schema, listMapKeys: ["type"])
}

extension [Condition] {
    /// Sets a condition, keeping `lastTransitionTime` when the status did not change.
    public mutating func set(_ condition: Condition) {
        if let position = firstIndex(where: { $0.type == condition.type }) {
            var updated = condition
            if self[position].status == condition.status {
                updated.lastTransitionTime = self[position].lastTransitionTime
            }
            self[position] = updated
        } else {
            append(condition)
        }
    }

    /// Sets a True/False condition observed at `generation` (keeping its transition time when
    /// the status did not change).
    public mutating func set(_ type: String, _ value: Bool, reason: String, message: String = "", generation: Int64, at time: String) {
        set(Condition(type: type, status: value ? .true : .false, reason: reason, message: message, observedGeneration: generation, lastTransitionTime: time))
    }

    /// The condition of the given type.
    public subscript(type type: String) -> Condition? { first { $0.type == type } }
}
