import CloudHTTP
import DeployerCore
import DeployerModel

/// A live Deployment read the way `kubectl rollout status` reads it (reference 1.13).
struct KubernetesRolloutState {
    let deployment: JSONValue

    var name: String { deployment["metadata"]?["name"]?.stringValue ?? "" }

    /// Why the rollout is not complete yet (nil: complete), when it has not failed.
    var pending: String? {
        let status = deployment["status"] ?? [:]
        let generation = deployment["metadata"]?["generation"]?.intValue ?? 0
        let observed = status["observedGeneration"]?.intValue ?? 0
        let wanted = deployment["spec"]?["replicas"]?.intValue ?? 1
        let updated = status["updatedReplicas"]?.intValue ?? 0
        let replicas = status["replicas"]?.intValue ?? 0
        let available = status["availableReplicas"]?.intValue ?? 0
        if generation > observed { return "Deployment \(name): waiting for the spec update to be observed" }
        if updated < wanted { return "Deployment \(name): \(updated) out of \(wanted) new replicas have been updated" }
        if replicas > updated { return "Deployment \(name): \(replicas - updated) old replicas are pending termination" }
        if available < updated { return "Deployment \(name): \(available) of \(updated) updated replicas are available" }
        return nil
    }

    /// The `Progressing` condition's message when it says `ProgressDeadlineExceeded`.
    var deadlineExceeded: String? {
        let progressing = (deployment["status"]?["conditions"]?.arrayValue ?? []).first { $0["type"]?.stringValue == "Progressing" }
        guard progressing?["reason"]?.stringValue == "ProgressDeadlineExceeded" else { return nil }
        return progressing?["message"]?.stringValue ?? "no progress"
    }

    /// The failed rollout's reason with what its pods say (`ImagePullBackOff`, a failing
    /// readiness probe), or nil.
    func failure(podsOf manifests: KubernetesManifests, _ client: KubeClient) async throws -> String? {
        guard let deadline = deadlineExceeded else { return nil }
        let answer = try await client.send(
            .GET, "/api/v1/namespaces/\(manifests.block.namespace)/pods", query: ["labelSelector": "\(KubernetesManifests.instanceLabel)=\(manifests.name)"])
        let pods = answer.status == 200 ? ((try? answer.json())?["items"]?.arrayValue ?? []) : []
        let reasons = pods.compactMap { pod -> String? in
            let statuses = pod["status"]?["containerStatuses"]?.arrayValue ?? []
            guard let waiting = statuses.first(where: { $0["ready"]?.boolValue != true })?["state"]?["waiting"] else {
                return statuses.contains { $0["ready"]?.boolValue != true } ? "pod \(pod["metadata"]?["name"]?.stringValue ?? ""): not ready" : nil
            }
            let message = waiting["message"]?.stringValue.map { $0.isEmpty ? "" : " (\($0))" } ?? ""
            return "pod \(pod["metadata"]?["name"]?.stringValue ?? ""): \(waiting["reason"]?.stringValue ?? "waiting")\(message)"
        }
        return (["Deployment \(name) exceeded its progress deadline: \(deadline)"] + reasons.prefix(2)).joined(separator: "; ")
    }

    /// The target as the rollout planner sees it. A rollout in progress is a target to wait
    /// for; a failed one reports its failure, and a version staged at weight 0 by the failed
    /// rollout does not count as available (its pods never became ready).
    func observation(target: String, url: String, failure: String?) -> TargetObservation {
        let (generations, strategy) = KubernetesManifests.generations(of: deployment)
        if failure == nil, let pending {
            return TargetObservation(name: target, url: url, reachable: false, message: pending, service: nil)
        }
        let entries = generations.filter { $0.weight > 0 }.map { ServiceDeployment.ActiveGeneration(version: $0.version, weight: $0.weight) }
        let mapping = entries.isEmpty ? nil : ServingMapping(strategy: strategy, entries: entries)
        let available = failure == nil ? generations : generations.filter { $0.weight > 0 }
        return TargetObservation(
            name: target, url: url, reachable: true, message: "Deployment \(name) rolled out",
            service: ObservedService(enabled: mapping != nil, generations: Set(available.map(\.version)), mapping: mapping), failure: failure)
    }

    /// Whether a live Deployment already runs the pod template of `desired` (same image, same
    /// generations): applying it again would change nothing.
    static func sameTemplate(_ live: JSONValue, _ desired: JSONValue) -> Bool {
        let container = { (deployment: JSONValue) in deployment["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.first }
        return container(live)?["image"] == container(desired)?["image"] && container(live)?["env"] == container(desired)?["env"]
    }
}
