import AsyncHTTPClient
import Crypto
import DeployerModel
import Foundation

/// The simulated pods of the fake cluster's Deployments.
struct FakeWorkloads {
    struct Pod {
        let name: String
        let namespace: String
        let deployment: String
        let templateHash: String
        let labels: [String: String]
        var container: FakeContainer?
        var ready = false
        var terminating = false
        var inFlight = 0
    }

    var pods: [String: Pod] = [:]
    /// When each Deployment last made progress (a new template, a pod ready or gone).
    var lastProgress: [String: Date] = [:]
    var templateHashes: [String: String] = [:]
    var rotation = 0
    var drainWaiters: [String: [CheckedContinuation<Void, Never>]] = [:]
}

/// A Deployment controller and kubelet in one (reference 9.5): each Deployment's pods roll by its
/// strategy (maxSurge/maxUnavailable, or Recreate); a pod's container is started by the
/// `kubelet` and is ready when its readiness probe answers 200 (without a kubelet, at once);
/// a pod leaves the Service's endpoints before its container is stopped, after the queries the
/// proxy is passing to it have finished. The Deployment's status and conditions are written as
/// the real controller writes them, `ProgressDeadlineExceeded` included, by the cluster's clock.
/// Simplification: pods are owned by their Deployment directly (no ReplicaSet objects).
extension FakeKubeCluster {
    static let deployments = FakeKubeResource.builtIns.first { $0.storageKey == "deployments.apps" }!

    func workloadChanged(_ key: StoredKey) {
        Task { self.reconcileWorkload(key) }
    }

    /// Recomputes every Deployment's status (after the test moved the clock).
    public func reevaluateWorkloads() {
        for key in objects.keys where key.storage == "deployments.apps" { reconcileWorkload(key) }
    }

    /// Stops every container (the end of a test).
    public func stopAllPods() async {
        let containers = workloads.pods.values.compactMap(\.container)
        workloads.pods.removeAll()
        for container in containers { await container.stop() }
    }

    func reconcileWorkload(_ key: StoredKey) {
        let owned = workloads.pods.values.filter { $0.namespace == key.namespace && $0.deployment == key.name && !$0.terminating }
        guard let deployment = objects[key], deployment["metadata"]?["deletionTimestamp"] == nil else {
            for pod in owned { terminate(pod) }
            return
        }
        let spec = deployment["spec"] ?? [:]
        let hash = Self.templateHash(spec["template"] ?? [:])
        let deploymentID = "\(key.namespace)/\(key.name)"
        if workloads.templateHashes[deploymentID] != hash {
            workloads.templateHashes[deploymentID] = hash
            workloads.lastProgress[deploymentID] = now()
        }
        let desired = Int(spec["replicas"]?.intValue ?? 1)
        let (surge, unavailable) = Self.rollingBounds(spec, desired: desired)
        let current = owned.filter { $0.templateHash == hash }
        let old = owned.filter { $0.templateHash != hash }
        let recreate = spec["strategy"]?["type"]?.stringValue == "Recreate"
        if recreate {
            for pod in old { terminate(pod) }
            let draining = workloads.pods.values.contains { $0.namespace == key.namespace && $0.deployment == key.name && $0.terminating }
            if old.isEmpty, !draining { for _ in current.count..<max(desired, current.count) { startPod(deployment, hash: hash) } }
        } else {
            let room = min(desired - current.count, desired + surge - owned.count)
            if room > 0 { for _ in 0..<room { startPod(deployment, hash: hash) } }
            var removable = owned.filter(\.ready).count - (desired - unavailable)
            for pod in old.sorted(by: { !$0.ready && $1.ready }) {
                if !pod.ready {
                    terminate(pod)
                } else if removable > 0 {
                    terminate(pod)
                    removable -= 1
                }
            }
        }
        for pod in current.sorted(by: { !$0.ready && $1.ready }).prefix(max(0, current.count - desired)) { terminate(pod) }
        writeStatus(key, hash: hash, desired: desired, unavailable: unavailable)
    }

    /// The controller's status: counts, `Available` and `Progressing` (reasons as in 5.1).
    private func writeStatus(_ key: StoredKey, hash: String, desired: Int, unavailable: Int) {
        guard let deployment = objects[key] else { return }
        let owned = workloads.pods.values.filter { $0.namespace == key.namespace && $0.deployment == key.name && !$0.terminating }
        let updated = owned.filter { $0.templateHash == hash }.count
        let ready = owned.filter(\.ready).count
        let availableUpdated = owned.filter { $0.ready && $0.templateHash == hash }.count
        let complete = updated == desired && owned.count == updated && availableUpdated == updated
        let replicaSet = "\(key.name)-\(hash)"
        let since = workloads.lastProgress["\(key.namespace)/\(key.name)"] ?? now()
        let deadline = Double(deployment["spec"]?["progressDeadlineSeconds"]?.intValue ?? 600)
        let previous = deployment["status"]?["conditions"]?.arrayValue ?? []
        let condition = { (type: String, status: String, reason: String, message: String) -> JSONValue in
            let time = JSONValue.string(self.nowText)
            if let before = previous.first(where: { $0["type"]?.stringValue == type }),
                before["status"]?.stringValue == status, before["reason"]?.stringValue == reason
            {
                var kept = before
                kept["message"] = .string(message)
                return kept
            }
            return ["type": .string(type), "status": .string(status), "reason": .string(reason), "message": .string(message), "lastUpdateTime": time, "lastTransitionTime": time]
        }
        let progressing: JSONValue =
            complete ? condition("Progressing", "True", "NewReplicaSetAvailable", "ReplicaSet \"\(replicaSet)\" has successfully progressed.")
            : now().timeIntervalSince(since) > deadline
                ? condition("Progressing", "False", "ProgressDeadlineExceeded", "ReplicaSet \"\(replicaSet)\" has timed out progressing.")
            : condition("Progressing", "True", "ReplicaSetUpdated", "ReplicaSet \"\(replicaSet)\" is progressing.")
        let available =
            ready >= desired - unavailable
            ? condition("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
            : condition("Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability.")
        var status: JSONValue = [
            "observedGeneration": deployment["metadata"]?["generation"] ?? 1, "replicas": .int(Int64(owned.count)), "updatedReplicas": .int(Int64(updated)),
            "readyReplicas": .int(Int64(ready)), "availableReplicas": .int(Int64(ready)), "conditions": [available, progressing],
        ]
        if owned.count > ready { status["unavailableReplicas"] = .int(Int64(owned.count - ready)) }
        var proposed = deployment
        proposed["status"] = status
        var options = WriteOptions()
        _ = try? store(key, resource: Self.deployments, current: deployment, proposed: proposed, status: true, options: &options)
    }

    // MARK: - Pods

    private func startPod(_ deployment: JSONValue, hash: String) {
        let namespace = deployment["metadata"]?["namespace"]?.stringValue ?? "default"
        let deploymentName = deployment["metadata"]?["name"]?.stringValue ?? ""
        let name = "\(deploymentName)-\(hash)-\(String(UUID().uuidString.lowercased().prefix(5)))"
        var labels = (deployment["spec"]?["template"]?["metadata"]?["labels"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
        labels["pod-template-hash"] = hash
        var podSpec = deployment["spec"]?["template"]?["spec"] ?? [:]
        podSpec["nodeName"] = "fake-node"
        let container = podSpec["containers"]?.arrayValue?.first ?? [:]
        let pod: JSONValue = [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": [
                "name": .string(name), "namespace": .string(namespace), "labels": .object(labels.mapValues { .string($0) }),
                "annotations": deployment["spec"]?["template"]?["metadata"]?["annotations"] ?? [:],
                "uid": .string(UUID().uuidString.lowercased()), "creationTimestamp": .string(nowText),
                "ownerReferences": [[
                    "apiVersion": "apps/v1", "kind": "Deployment", "name": .string(deploymentName),
                    "uid": deployment["metadata"]?["uid"] ?? "", "controller": true, "blockOwnerDeletion": true,
                ]],
            ],
            "spec": podSpec,
            "status": Self.podStatus(phase: "Pending", ready: false, container: container, waiting: ("ContainerCreating", ""), time: nowText),
        ]
        commit(StoredKey(storage: "pods.", namespace: namespace, name: name), pod, type: "ADDED")
        workloads.pods["\(namespace)/\(name)"] = FakeWorkloads.Pod(name: name, namespace: namespace, deployment: deploymentName, templateHash: hash, labels: labels)
        let launch = FakePodLaunch(
            pod: name, namespace: namespace, image: container["image"]?.stringValue ?? "",
            command: (container["command"]?.arrayValue ?? []).compactMap(\.stringValue), args: (container["args"]?.arrayValue ?? []).compactMap(\.stringValue),
            environment: Dictionary((container["env"]?.arrayValue ?? []).compactMap { entry in
                entry["name"]?.stringValue.map { ($0, entry["value"]?.stringValue ?? "") }
            }, uniquingKeysWith: { _, last in last }))
        let probePath = container["readinessProbe"]?["httpGet"]?["path"]?.stringValue
        guard let kubelet else {
            podStarted("\(namespace)/\(name)", container: nil)
            podReady("\(namespace)/\(name)")
            return
        }
        Task {
            do {
                let started = try await kubelet(launch)
                guard self.podStarted("\(namespace)/\(name)", container: started) else { return }
                await self.probe("\(namespace)/\(name)", port: started.port, path: probePath)
            } catch let failure as FakeContainerFailure {
                self.podFailed("\(namespace)/\(name)", reason: failure.reason, message: failure.message)
            } catch {
                self.podFailed("\(namespace)/\(name)", reason: "CrashLoopBackOff", message: "\(error)")
            }
        }
    }

    /// Records the started container; false (and the container stopped) when the pod went meanwhile.
    @discardableResult
    private func podStarted(_ id: String, container: FakeContainer?) -> Bool {
        guard var pod = workloads.pods[id], !pod.terminating else {
            if let container { Task { await container.stop() } }
            return false
        }
        pod.container = container
        workloads.pods[id] = pod
        updatePodObject(pod, phase: "Running", waiting: nil)
        return true
    }

    /// The readiness probe, once the container listens (the kubelet closure returns then): 200
    /// makes the pod ready; anything else leaves it unready with the probe's failure as the
    /// container's reason (the fake does not probe again).
    private func probe(_ id: String, port: Int, path: String?) async {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path ?? "/")")
        request.method = .GET
        let status = (try? await HTTPClient.shared.execute(request, timeout: .seconds(10)))?.status.code
        guard status == 200 else {
            podFailed(id, reason: "Unhealthy", message: "Readiness probe failed: " + (status.map { "HTTP probe failed with statuscode: \($0)" } ?? "no answer"))
            return
        }
        podReady(id)
    }

    private func podReady(_ id: String) {
        guard var pod = workloads.pods[id], !pod.terminating else { return }
        pod.ready = true
        workloads.pods[id] = pod
        workloads.lastProgress["\(pod.namespace)/\(pod.deployment)"] = now()
        updatePodObject(pod, phase: "Running", waiting: nil)
        reconcileWorkload(StoredKey(storage: "deployments.apps", namespace: pod.namespace, name: pod.deployment))
    }

    private func podFailed(_ id: String, reason: String, message: String) {
        guard let pod = workloads.pods[id], !pod.terminating else { return }
        let waiting = reason == "ErrImagePull" ? "ImagePullBackOff" : reason
        updatePodObject(pod, phase: "Pending", waiting: (waiting, message))
    }

    /// Takes the pod out of the endpoints, waits for its proxied queries, stops the container
    /// and removes the Pod object.
    private func terminate(_ pod: FakeWorkloads.Pod) {
        let id = "\(pod.namespace)/\(pod.name)"
        guard var current = workloads.pods[id], !current.terminating else { return }
        current.terminating = true
        workloads.pods[id] = current
        Task {
            await self.drained(id)
            if let container = self.workloads.pods[id]?.container { await container.stop() }
            self.removePod(id)
        }
    }

    private func drained(_ id: String) async {
        guard let pod = workloads.pods[id], pod.inFlight > 0 else { return }
        await withCheckedContinuation { workloads.drainWaiters[id, default: []].append($0) }
    }

    private func removePod(_ id: String) {
        guard let pod = workloads.pods.removeValue(forKey: id) else { return }
        workloads.lastProgress["\(pod.namespace)/\(pod.deployment)"] = now()
        let key = StoredKey(storage: "pods.", namespace: pod.namespace, name: pod.name)
        if let object = objects[key] { commit(key, object, type: "DELETED") }
        reconcileWorkload(StoredKey(storage: "deployments.apps", namespace: pod.namespace, name: pod.deployment))
    }

    /// A Pod object deleted by a client: its container stops and the Deployment replaces it.
    func podObjectDeleted(_ key: StoredKey) {
        guard let pod = workloads.pods["\(key.namespace)/\(key.name)"], !pod.terminating else { return }
        terminate(pod)
    }

    private func updatePodObject(_ pod: FakeWorkloads.Pod, phase: String, waiting: (String, String)?) {
        let key = StoredKey(storage: "pods.", namespace: pod.namespace, name: pod.name)
        guard var object = objects[key] else { return }
        let container = object["spec"]?["containers"]?.arrayValue?.first ?? [:]
        object["status"] = Self.podStatus(phase: phase, ready: pod.ready, container: container, waiting: waiting, time: nowText)
        if let port = pod.container?.port { object["status"]?["podIP"] = "127.0.0.1"; object["metadata"]?["annotations"]?["fake.kubernetes.io/port"] = .string(String(port)) }
        commit(key, object, type: "MODIFIED")
    }

    static func podStatus(phase: String, ready: Bool, container: JSONValue, waiting: (String, String)?, time: String) -> JSONValue {
        let readyText: JSONValue = ready ? "True" : "False"
        var state: JSONValue = ["running": ["startedAt": .string(time)]]
        if let (reason, message) = waiting { state = ["waiting": ["reason": .string(reason), "message": .string(message)]] }
        return [
            "phase": .string(phase),
            "conditions": [
                ["type": "PodScheduled", "status": "True"], ["type": "Initialized", "status": "True"],
                ["type": "ContainersReady", "status": readyText], ["type": "Ready", "status": readyText],
            ],
            "containerStatuses": [[
                "name": container["name"] ?? "main", "image": container["image"] ?? "", "ready": .bool(ready), "started": .bool(waiting == nil),
                "restartCount": 0, "state": state,
            ]],
        ]
    }

    // MARK: - Service proxy

    /// The next ready pod behind a Service (round robin), counted in flight until `proxyFinished`.
    func proxyTarget(namespace: String, service: String) throws -> (pod: String, port: Int) {
        let name = String(service.split(separator: ":").first ?? "")
        guard let object = objects[StoredKey(storage: "services.", namespace: namespace, name: name)] else {
            throw APIError(code: 404, reason: "NotFound", message: "services \"\(name)\" not found", name: name, kind: "services")
        }
        let selector = (object["spec"]?["selector"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
        let endpoints = workloads.pods.values.filter { pod in
            pod.namespace == namespace && pod.ready && !pod.terminating && pod.container != nil && !selector.isEmpty
                && selector.allSatisfy { pod.labels[$0.key] == $0.value }
        }.sorted { $0.name < $1.name }
        guard !endpoints.isEmpty else {
            throw APIError(code: 503, reason: "ServiceUnavailable", message: "no endpoints available for service \"\(name)\"")
        }
        workloads.rotation += 1
        let chosen = endpoints[workloads.rotation % endpoints.count]
        let id = "\(chosen.namespace)/\(chosen.name)"
        workloads.pods[id]?.inFlight += 1
        return (id, chosen.container?.port ?? 0)
    }

    func proxyFinished(_ id: String) {
        guard var pod = workloads.pods[id] else { return }
        pod.inFlight -= 1
        workloads.pods[id] = pod
        if pod.inFlight == 0 { for waiter in workloads.drainWaiters.removeValue(forKey: id) ?? [] { waiter.resume() } }
    }

    // MARK: - Helpers

    static func templateHash(_ template: JSONValue) -> String {
        let digest = SHA256.hash(data: template.serialized())
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return String(digest.prefix(10).map { alphabet[Int($0) % alphabet.count] })
    }

    /// maxSurge (rounded up) and maxUnavailable (rounded down) as pod counts.
    static func rollingBounds(_ spec: JSONValue, desired: Int) -> (surge: Int, unavailable: Int) {
        let rolling = spec["strategy"]?["rollingUpdate"] ?? [:]
        func count(_ value: JSONValue?, roundUp: Bool) -> Int {
            if let number = value?.intValue { return Int(number) }
            guard let text = value?.stringValue, text.hasSuffix("%"), let percent = Double(text.dropLast()) else { return roundUp ? 1 : 0 }
            let exact = Double(desired) * percent / 100
            return Int(roundUp ? exact.rounded(.up) : exact.rounded(.down))
        }
        let surge = count(rolling["maxSurge"], roundUp: true)
        let unavailable = count(rolling["maxUnavailable"], roundUp: false)
        return (surge, surge == 0 && unavailable == 0 ? 1 : unavailable)
    }
}
