import DeployerModel
import Foundation

/// Where the deployer's audit events go (topic `deployer-audit`): every write through its API,
/// every denied request and every rollout transition. `record` never waits.
public protocol AuditTrail: Sendable {
    func record(_ event: JSONValue)
}

/// The audit events, as JSON objects with a `msgType` and an RFC 3339 `timestamp`.
public enum AuditEvent {
    public static let topic = "deployer-audit"

    /// A request through the API (`api-write`, or `api-read` for a denied read): who, what,
    /// and whether it was allowed.
    public static func apiRequest(
        isWrite: Bool, user: String?, impersonator: String? = nil, groups: [String], verb: String, kind: String?, namespace: String?, name: String?, generation: Int64?,
        allowed: Bool, status: Int, message: String?, dryRun: Bool, at date: Date
    ) -> JSONValue {
        var event: JSONValue = [
            "msgType": isWrite ? "api-write" : "api-read", "timestamp": .string(MillisecondTimestamp.format(date, zone: "Z")),
            "user": user.map(JSONValue.string) ?? .null, "groups": .array(groups.map(JSONValue.string)), "verb": .string(verb), "decision": allowed ? "allowed" : "denied",
            "status": .int(Int64(status)),
        ]
        if let impersonator { event["impersonator"] = .string(impersonator) }
        if let kind { event["kind"] = .string(kind) }
        if let namespace { event["namespace"] = .string(namespace) }
        if let name { event["name"] = .string(name) }
        if let generation { event["generation"] = .int(generation) }
        if let message { event["message"] = .string(message) }
        if dryRun { event["dryRun"] = true }
        return event
    }

    /// The rollout transitions between two saved statuses of a deployment: a rollout that
    /// started, and one that ended (with its outcome).
    public static func rolloutTransitions(
        deployment key: ObjectKey, from old: ServiceDeployment.Status?, to new: ServiceDeployment.Status, at date: Date
    ) -> [JSONValue] {
        guard let current = new.history?.last else { return [] }
        let previous = old?.history?.first { $0.id == current.id }
        var phases: [String] = []
        if previous == nil { phases.append("RolloutStarted") }
        if current.outcome != previous?.outcome, current.end != nil { phases.append("Rollout\(current.outcome)") }
        let ready = new.conditions?[type: Condition.Kind.ready]
        let stalled = new.conditions?[type: Condition.Kind.stalled]
        return phases.map { phase in
            var event: JSONValue = [
                "msgType": "rollout", "timestamp": .string(MillisecondTimestamp.format(date, zone: "Z")), "transition": .string(phase),
                "namespace": .string(key.namespace), "deployment": .string(key.name), "rolloutId": .int(current.id),
                "from": .array(current.from.map(JSONValue.string)), "to": .array(current.to.map(JSONValue.string)),
                "outcome": .string(current.outcome),
            ]
            if let generation = current.generation { event["generation"] = .int(generation) }
            if let trigger = current.trigger { event["trigger"] = .string(trigger) }
            if let requester = current.requester { event["requester"] = .string(requester) }
            if phase != "RolloutStarted", let condition = stalled?.status == .true ? stalled : ready {
                event["reason"] = .string(condition.reason)
                if !condition.message.isEmpty { event["message"] = .string(condition.message) }
            }
            return event
        }
    }
}
