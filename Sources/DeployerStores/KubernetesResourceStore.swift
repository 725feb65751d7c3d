import CloudHTTP
import DeployerCore
import DeployerModel
import Foundation

/// A `ResourceStore` over our custom resources in a Kubernetes API server — a cluster with our
/// CRDs, or any server speaking the same API (`apideployer serve`): the reconcilers run on it
/// unchanged. The server keeps the semantics (validation, generations, status, finalizers,
/// resource versions); this store maps each call onto REST and reads the answers back.
public struct KubernetesResourceStore: ResourceStore {
    let client: KubeClient
    /// Attempts of a `modify` whose read was overtaken by another writer (409 on the write).
    static let modifyAttempts = 8

    public init(client: KubeClient) {
        self.client = client
    }

    public func create(_ object: JSONValue, kind: ResourceKind, dryRun: Bool) async throws -> StoredObject {
        let namespace = object["metadata"]?["namespace"]?.stringValue ?? "default"
        let response = try await client.send(
            .POST, APIPaths.collection(kind, namespace: namespace), query: Self.writeQuery(dryRun: dryRun), body: object.serialized())
        return try Self.object(kind, response)
    }

    public func get(_ key: ObjectKey) async throws -> StoredObject {
        try Self.object(key.kind, try await client.send(.GET, APIPaths.object(key.kind, namespace: key.namespace, name: key.name)))
    }

    public func list(_ kind: ResourceKind, _ query: ListQuery) async throws -> ListResult {
        var parameters = Self.selectors(query)
        if let limit = query.limit { parameters["limit"] = String(limit) }
        if let token = query.continueToken { parameters["continue"] = token }
        let response = try await client.send(.GET, Self.collection(kind, query.namespace), query: parameters)
        let list = try Self.checked(response)
        let items = try (list["items"]?.arrayValue ?? []).map { try Self.object(kind, $0) }
        let token = list["metadata"]?["continue"]?.stringValue
        return ListResult(
            items: items, resourceVersion: Self.version(list), continueToken: token?.isEmpty == false ? token : nil,
            remainingItemCount: list["metadata"]?["remainingItemCount"]?.intValue.map(Int.init))
    }

    /// Reads, transforms and writes back with the read's resource version; when another writer
    /// got in between (409 on a version the transform did not choose), reads and transforms again.
    public func modify(
        _ key: ObjectKey, subresource: Subresource, createIfMissing: Bool, dryRun: Bool, transform: @escaping ObjectTransform
    ) async throws -> StoredObject {
        let path = APIPaths.object(key.kind, namespace: key.namespace, name: key.name)
        for _ in 0..<Self.modifyAttempts {
            let read = try await client.send(.GET, path)
            guard read.status != 404 else {
                guard createIfMissing else { throw APIError.notFound(key.kind, key.name) }
                var document = try transform(nil)
                document["metadata"]?["namespace"] = .string(key.namespace)
                return try await create(document, kind: key.kind, dryRun: dryRun)
            }
            let current = try Self.checked(read)
            let currentVersion = current["metadata"]?["resourceVersion"]
            var document = try transform(current)
            let chosenVersion = document["metadata"]?["resourceVersion"]
            if chosenVersion != nil, chosenVersion != currentVersion { throw APIError.conflict(key.kind, key.name) }
            document["metadata"]?["resourceVersion"] = currentVersion
            let write = try await client.send(
                .PUT, path + (subresource == .status ? "/status" : ""), query: Self.writeQuery(dryRun: dryRun), body: document.serialized())
            if write.status == 409 { continue }  // read again: a version the caller chose then conflicts above
            return try Self.object(key.kind, write)
        }
        throw APIError.conflict(key.kind, key.name, "the object kept changing while it was being modified")
    }

    /// Deletes the object as read (its uid as precondition), so the answer can hold it.
    public func delete(_ key: ObjectKey, preconditions: DeletePreconditions, dryRun: Bool) async throws -> DeleteOutcome {
        let path = APIPaths.object(key.kind, namespace: key.namespace, name: key.name)
        let before = try Self.object(key.kind, try await client.send(.GET, path))
        var options: JSONValue = [
            "kind": "DeleteOptions", "apiVersion": "v1",
            "preconditions": ["uid": .string(preconditions.uid ?? before.document["metadata"]?["uid"]?.stringValue ?? "")],
        ]
        if let version = preconditions.resourceVersion { options["preconditions"]?["resourceVersion"] = .string(version) }
        if dryRun { options["dryRun"] = ["All"] }
        let answer = try Self.checked(try await client.send(.DELETE, path, body: options.serialized()))
        if answer["kind"]?.stringValue == "Status" { return .deleted(before) }
        let object = try Self.object(key.kind, answer)
        return object.document["metadata"]?["deletionTimestamp"] == nil ? .deleted(object) : .finalizing(object)
    }

    public func watch(_ kind: ResourceKind, _ query: ListQuery, from start: WatchStart, bookmarks: Bool) async throws -> AsyncStream<WatchItem> {
        KubernetesWatch(client: client, path: Self.collection(kind, query.namespace), kind: kind, selectors: Self.selectors(query))
            .stream(from: start, bookmarks: bookmarks)
    }

    public func currentResourceVersion() async -> UInt64 {
        (try? await list(.stage, ListQuery(limit: 1)).resourceVersion) ?? 0
    }

    // MARK: - Wire helpers

    static func collection(_ kind: ResourceKind, _ namespace: String?) -> String {
        namespace.map { APIPaths.collection(kind, namespace: $0) } ?? "/apis/\(ResourceKind.apiVersion)/\(kind.plural)"
    }

    static func selectors(_ query: ListQuery) -> [String: String] {
        var parameters: [String: String] = [:]
        if !query.labelSelector.description.isEmpty { parameters["labelSelector"] = query.labelSelector.description }
        if !query.fieldSelector.description.isEmpty { parameters["fieldSelector"] = query.fieldSelector.description }
        return parameters
    }

    private static func writeQuery(dryRun: Bool) -> [String: String] {
        dryRun ? ["dryRun": "All", "fieldValidation": "Strict"] : ["fieldValidation": "Strict"]
    }

    /// The answer's JSON, or the server's error.
    static func checked(_ response: KubeResponse) throws -> JSONValue {
        guard (200..<300).contains(response.status) else { throw response.error }
        return try response.json()
    }

    static func object(_ kind: ResourceKind, _ response: KubeResponse) throws -> StoredObject {
        try object(kind, try checked(response))
    }

    static func object(_ kind: ResourceKind, _ document: JSONValue) throws -> StoredObject {
        StoredObject(kind: kind, document: document, resourceVersion: version(document))
    }

    static func version(_ document: JSONValue) -> UInt64 {
        UInt64(document["metadata"]?["resourceVersion"]?.stringValue ?? "") ?? 0
    }
}
