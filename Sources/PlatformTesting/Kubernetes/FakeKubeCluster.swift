import DeployerCore
import DeployerModel
import Foundation

/// An in-memory Kubernetes API server's state for tests (reference section 9): one global
/// resource version, objects of the built-in kinds and of every established CRD, a bounded
/// watch history, garbage collection of owned objects, and simulated controllers — Deployments
/// run pods whose containers `kubelet` really starts, Services route through the API server's
/// service proxy to the ready ones. Served over HTTP by `FakeKubeAPIServer`.
public actor FakeKubeCluster {
    struct StoredKey: Hashable, Comparable {
        let storage: String
        let namespace: String
        let name: String

        static func < (lhs: StoredKey, rhs: StoredKey) -> Bool { (lhs.namespace, lhs.name) < (rhs.namespace, rhs.name) }
    }

    struct Change {
        let resourceVersion: UInt64
        let storage: String
        let type: String
        let object: JSONValue
    }

    struct Watcher {
        let storage: String
        let namespace: String?
        let labels: LabelSelector
        let fields: FakeFieldSelector
        let continuation: AsyncStream<[UInt8]>.Continuation

        func wants(_ change: Change) -> Bool {
            change.storage == storage && (namespace == nil || change.object["metadata"]?["namespace"]?.stringValue == namespace)
                && FakeKubeCluster.matches(labels, change.object) && fields.matches(change.object)
        }
    }

    static let historyLimit = 2000

    private(set) var resources: [FakeKubeResource] = FakeKubeResource.builtIns
    var objects: [StoredKey: JSONValue] = [:]
    /// The resource version each stored object was created at (list snapshots).
    var createdVersions: [StoredKey: UInt64] = [:]
    var resourceVersion: UInt64 = 1
    var history: [Change] = []
    /// The oldest resource version a watch can resume from.
    var historyStart: UInt64 = 1
    var watchers: [UUID: Watcher] = [:]
    var allocations = 0
    let now: @Sendable () -> Date
    /// Starts the containers of simulated pods.
    let kubelet: FakeKubelet?
    var workloads = FakeWorkloads()
    /// Every request as `METHOD path?query` (what kubectl sent).
    public private(set) var requestLog: [String] = []

    /// A cluster with the `default`, `kube-system` and `kube-public` namespaces; `kubelet` runs pod
    /// containers (nil: pods never start), `now` is the clock of timestamps and progress deadlines.
    public init(kubelet: FakeKubelet? = nil, now: @escaping @Sendable () -> Date = Date.init) {
        self.kubelet = kubelet
        self.now = now
        for name in ["default", "kube-system", "kube-public"] {
            let key = StoredKey(storage: "namespaces.", namespace: "", name: name)
            objects[key] = [
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": ["name": .string(name), "uid": .string(UUID().uuidString.lowercased()), "resourceVersion": "1", "creationTimestamp": .string(Self.timestamp(now()))],
                "spec": ["finalizers": ["kubernetes"]], "status": ["phase": "Active"],
            ]
        }
    }

    // MARK: - Test hooks

    /// The stored objects of a resource (`deployments.apps`, `services.`, `pods.` …), sorted.
    public func objects(_ storage: String, namespace: String? = nil) -> [JSONValue] {
        objects.filter { $0.key.storage == storage && (namespace == nil || $0.key.namespace == namespace) }.sorted { $0.key < $1.key }.map(\.value)
    }

    /// Forgets the watch history: a watch resuming from any earlier version gets 410 Expired.
    public func expireWatchHistory() {
        history.removeAll()
        historyStart = resourceVersion + 1
    }

    /// The first object of a resource for which `check` holds: one stored now, or the next one a
    /// change makes hold (nil if none does within `timeout`).
    public func object(
        _ storage: String, namespace: String? = nil, timeout: Duration = .seconds(120), where check: @escaping @Sendable (JSONValue) -> Bool
    ) async -> JSONValue? {
        if let found = objects(storage, namespace: namespace).first(where: check) { return found }
        let changes = watch(
            storage: storage, namespace: namespace, labels: .everything, fields: .everything, start: String(resourceVersion), initialEventsEnd: nil,
            timeout: timeout)
        for await line in changes {
            guard let event = try? JSONValue.parse(line), event["type"]?.stringValue != "DELETED", let object = event["object"] else { continue }
            if check(object) { return object }
        }
        return nil
    }

    func log(_ line: String) { requestLog.append(line) }

    // MARK: - Resources

    func resource(group: String, version: String, plural: String) -> FakeKubeResource? {
        resources.first { $0.group == group && $0.version == version && $0.plural == plural }
    }

    func groupVersions() -> [(group: String, versions: [String])] {
        var order: [String] = []
        var versions: [String: [String]] = [:]
        for resource in resources {
            if versions[resource.group] == nil { order.append(resource.group) }
            if !(versions[resource.group] ?? []).contains(resource.version) { versions[resource.group, default: []].append(resource.version) }
        }
        return order.map { ($0, versions[$0] ?? []) }
    }

    /// Discovery follows the CRDs at once.
    private func refreshResources() {
        let crds = objects.filter { $0.key.storage == "customresourcedefinitions.apiextensions.k8s.io" }.sorted { $0.key < $1.key }.map(\.value)
        resources = FakeKubeResource.builtIns + crds.flatMap(FakeKubeResource.defined(by:))
    }

    // MARK: - Committing changes

    /// Stores (or removes, for `DELETED`) an object with the next resource version, records the
    /// change and tells the watchers; then runs what follows from it (discovery, garbage
    /// collection, the workload simulation).
    @discardableResult
    func commit(_ key: StoredKey, _ object: JSONValue, type: String) -> JSONValue {
        resourceVersion += 1
        var stored = object
        stored["metadata"]?["resourceVersion"] = .string(String(resourceVersion))
        objects[key] = type == "DELETED" ? nil : stored
        if type == "ADDED" { createdVersions[key] = resourceVersion }
        if type == "DELETED" { createdVersions[key] = nil }
        let change = Change(resourceVersion: resourceVersion, storage: key.storage, type: type, object: stored)
        history.append(change)
        if history.count > Self.historyLimit {
            history.removeFirst(history.count - Self.historyLimit)
            historyStart = history.first?.resourceVersion ?? resourceVersion
        }
        for watcher in watchers.values where watcher.wants(change) { watcher.continuation.yield(Self.line(change.type, change.object)) }
        if key.storage == "customresourcedefinitions.apiextensions.k8s.io" {
            if type == "DELETED", let removed = FakeKubeResource.defined(by: stored).first {
                for (objectKey, object) in objects where objectKey.storage == removed.storageKey { commit(objectKey, object, type: "DELETED") }
            }
            refreshResources()
        }
        if type == "DELETED", let uid = stored["metadata"]?["uid"]?.stringValue { collectDependents(of: uid, namespace: key.namespace) }
        if key.storage == "deployments.apps" { workloadChanged(key) }
        if key.storage == "pods.", type == "DELETED" { podObjectDeleted(key) }
        return stored
    }

    static func matches(_ selector: LabelSelector, _ object: JSONValue) -> Bool {
        selector.matches((object["metadata"]?["labels"]?.objectValue ?? [:]).compactMapValues(\.stringValue))
    }

    static func line(_ type: String, _ object: JSONValue) -> [UInt8] {
        JSONValue.object(["type": .string(type), "object": object]).serialized() + [UInt8(ascii: "\n")]
    }

    /// Background garbage collection: objects none of whose owners exist any more go too.
    private func collectDependents(of uid: String, namespace: String) {
        let dependents = objects.filter { key, object in
            (key.namespace == namespace || namespace.isEmpty)
                && (object["metadata"]?["ownerReferences"]?.arrayValue ?? []).contains { $0["uid"]?.stringValue == uid }
        }
        let liveUIDs = Set(objects.values.compactMap { $0["metadata"]?["uid"]?.stringValue })
        for (key, object) in dependents.sorted(by: { $0.key < $1.key }) where objects[key] != nil {
            let owners = (object["metadata"]?["ownerReferences"]?.arrayValue ?? []).compactMap { $0["uid"]?.stringValue }
            if owners.allSatisfy({ !liveUIDs.contains($0) }) { _ = try? delete(key, options: [:]) }
        }
    }

    // MARK: - Watch

    /// A watch from `start` (nil or "0": every current object as ADDED first, then — given
    /// `initialEventsEnd` — the BOOKMARK that ends them): history after it, then live changes;
    /// 410 Expired as an ERROR event when the history no longer reaches back.
    func watch(
        storage: String, namespace: String?, labels: LabelSelector, fields: FakeFieldSelector, start: String?,
        initialEventsEnd: (apiVersion: String, kind: String)?, timeout: Duration?
    ) -> AsyncStream<[UInt8]> {
        let (stream, continuation) = AsyncStream<[UInt8]>.makeStream()
        let watcher = Watcher(storage: storage, namespace: namespace, labels: labels, fields: fields, continuation: continuation)
        if start == nil || start == "0" {
            for (key, object) in objects.sorted(by: { $0.key < $1.key }) where key.storage == storage {
                let change = Change(resourceVersion: resourceVersion, storage: storage, type: "ADDED", object: object)
                if watcher.wants(change) { continuation.yield(Self.line("ADDED", object)) }
            }
            if let (apiVersion, kind) = initialEventsEnd {
                let bookmark: JSONValue = [
                    "apiVersion": .string(apiVersion), "kind": .string(kind),
                    "metadata": ["resourceVersion": .string(String(resourceVersion)), "annotations": ["k8s.io/initial-events-end": "true"]],
                ]
                continuation.yield(Self.line("BOOKMARK", bookmark))
            }
        } else {
            guard let from = UInt64(start ?? ""), from + 1 >= historyStart else {
                let status = APIError(code: 410, reason: "Expired", message: "too old resource version: \(start ?? "") (\(historyStart))").status
                continuation.yield(Self.line("ERROR", status))
                continuation.finish()
                return stream
            }
            for change in history where change.resourceVersion > from && watcher.wants(change) {
                continuation.yield(Self.line(change.type, change.object))
            }
        }
        let id = UUID()
        watchers[id] = watcher
        continuation.onTermination = { _ in Task { await self.stopWatching(id) } }
        if let timeout {
            Task {
                try? await Task.sleep(for: timeout)
                continuation.finish()
            }
        }
        return stream
    }

    private func stopWatching(_ id: UUID) { watchers[id] = nil }

    /// Ends every open watch (the server is stopping: a watch whose client went away would
    /// otherwise hold its connection until the next event).
    func endWatches() {
        for watcher in watchers.values { watcher.continuation.finish() }
        watchers.removeAll()
    }

    // MARK: - Helpers

    func allocate() -> Int {
        allocations += 1
        return allocations
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    var nowText: String { Self.timestamp(now()) }
}
