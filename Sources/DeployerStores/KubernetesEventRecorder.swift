import CloudHTTP
import DeployerCore
import DeployerModel
import Foundation
import Logging

/// Rollout transitions as core/v1 Events on the ServiceDeployment (what `kubectl describe` and
/// `kubectl get events` show), for the controller in a cluster: `RolloutStarted`,
/// `RolloutSucceeded` (Normal), `RolloutFailed` (Warning, with the stall's reason and message).
/// Recording never waits: each Event is posted in the background and a failure is only logged,
/// as client-go's recorder does. Other audit events (API requests) do not exist in this mode.
public struct KubernetesEventRecorder: AuditTrail {
    let client: KubeClient
    /// `reportingInstance`: the controller's identity.
    let instance: String
    let logger: Logger

    public init(client: KubeClient, instance: String, logger: Logger) {
        self.client = client
        self.instance = instance
        self.logger = logger
    }

    public func record(_ event: JSONValue) {
        guard event["msgType"]?.stringValue == "rollout", let namespace = event["namespace"]?.stringValue,
            let name = event["deployment"]?.stringValue, let reason = event["transition"]?.stringValue
        else { return }
        Task { [client, instance, logger] in
            do {
                let object = try await client.send(.GET, APIPaths.object(.serviceDeployment, namespace: namespace, name: name))
                let uid = object.status == 200 ? (try? object.json())?["metadata"]?["uid"] : nil
                let body = Self.event(event, namespace: namespace, name: name, reason: reason, uid: uid, instance: instance)
                let answer = try await client.send(.POST, "/api/v1/namespaces/\(namespace)/events", body: body.serialized())
                if answer.status != 201 { logger.warning("the \(reason) event of \(namespace)/\(name) was refused: \(answer.error.message)") }
            } catch {
                logger.warning("the \(reason) event of \(namespace)/\(name) could not be posted: \(error)")
            }
        }
    }

    /// The core/v1 Event for one rollout transition.
    static func event(_ audit: JSONValue, namespace: String, name: String, reason: String, uid: JSONValue?, instance: String) -> JSONValue {
        let versions = { (key: String) in (audit[key]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ",") }
        var message = "rollout \(audit["rolloutId"]?.intValue ?? 0): \(versions("from").isEmpty ? "nothing" : versions("from")) → \(versions("to"))"
        if let trigger = audit["trigger"]?.stringValue { message += " (\(trigger))" }
        if reason != "RolloutStarted", let why = audit["reason"]?.stringValue {
            message += ": \(why)" + (audit["message"]?.stringValue.map { " — \($0)" } ?? "")
        }
        let time = JSONValue.string(audit["timestamp"]?.stringValue.flatMap(Self.seconds) ?? "")
        var involved: JSONValue = ["apiVersion": .string(ResourceKind.apiVersion), "kind": "ServiceDeployment", "namespace": .string(namespace), "name": .string(name)]
        if let uid { involved["uid"] = uid }
        return [
            "apiVersion": "v1", "kind": "Event",
            "metadata": ["generateName": .string("\(name)."), "namespace": .string(namespace)],
            "involvedObject": involved, "reason": .string(reason), "message": .string(String(message.prefix(1024))),
            "type": reason == "RolloutFailed" ? "Warning" : "Normal", "count": 1, "firstTimestamp": time, "lastTimestamp": time,
            "source": ["component": "apideployer-controller"], "reportingComponent": "apideployer.dev/controller", "reportingInstance": .string(instance),
        ]
    }

    /// `2026-11-29T16:00:00.123Z` → `2026-11-29T16:00:00Z` (Event timestamps have seconds).
    private static func seconds(_ text: String) -> String? {
        guard let dot = text.firstIndex(of: ".") else { return text }
        return String(text[..<dot]) + "Z"
    }
}
