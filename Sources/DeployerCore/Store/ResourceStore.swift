import DeployerModel

/// Where a write goes: the main resource or its `/status` subresource.
public enum Subresource: Sendable {
    case main
    case status
}

/// Turns the current object (nil when absent) into the object to store. Throwing refuses the write.
public typealias ObjectTransform = @Sendable (_ current: JSONValue?) throws -> JSONValue

/// Conditions a delete must meet.
public struct DeletePreconditions: Sendable {
    public var uid: String?
    public var resourceVersion: String?

    public init(uid: String? = nil, resourceVersion: String? = nil) {
        self.uid = uid
        self.resourceVersion = resourceVersion
    }
}

/// What a delete did.
public enum DeleteOutcome: Sendable {
    /// The object is gone; this is its last state.
    case deleted(StoredObject)
    /// Finalizers remain: the object now carries `deletionTimestamp`.
    case finalizing(StoredObject)
}

/// A consistent list: items and the resource version they were read at.
public struct ListResult: Sendable {
    public let items: [StoredObject]
    public let resourceVersion: UInt64
    /// An opaque token for the next page, if any.
    public let continueToken: String?
    public let remainingItemCount: Int?

    public init(items: [StoredObject], resourceVersion: UInt64, continueToken: String?, remainingItemCount: Int?) {
        self.items = items
        self.resourceVersion = resourceVersion
        self.continueToken = continueToken
        self.remainingItemCount = remainingItemCount
    }

    /// The items `keep` accepts; the remaining count is left out (it would count the others).
    public func filter(_ keep: (StoredObject) -> Bool) -> ListResult {
        ListResult(items: items.filter(keep), resourceVersion: resourceVersion, continueToken: continueToken, remainingItemCount: nil)
    }
}

/// Which objects a list or a watch returns.
public struct ListQuery: Sendable {
    public var namespace: String?
    public var labelSelector: LabelSelector
    public var fieldSelector: FieldSelector
    public var limit: Int?
    public var continueToken: String?

    public init(
        namespace: String? = nil, labelSelector: LabelSelector = .everything, fieldSelector: FieldSelector = .everything,
        limit: Int? = nil, continueToken: String? = nil
    ) {
        self.namespace = namespace
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.limit = limit
        self.continueToken = continueToken
    }

    func matches(_ object: StoredObject) -> Bool {
        if let namespace, object.key.namespace != namespace { return false }
        return labelSelector.matches(object.labels) && fieldSelector.matches(object.key)
    }
}

/// Where a watch starts.
public enum WatchStart: Sendable {
    /// Synthetic ADDED events for every current object, then changes.
    case currentState
    /// Only changes after this resource version.
    case after(UInt64)
}

/// An item of a watch stream.
public enum WatchItem: Sendable {
    case event(StoreEvent)
    /// Every change up to this resource version has been delivered (sent only when asked for).
    case bookmark(UInt64)
    /// The stream cannot continue from the requested point (410 Expired); the client relists.
    case expired(APIError)
}

/// Stores resources with Kubernetes semantics: uid and generation on create, optimistic
/// concurrency, generation bumps on spec changes only, status through its own path,
/// finalizers, label selectors, and ordered watches from a resource version.
///
/// Implementations: `ObjectStore` (embedded; in memory or journaled to SQLite) and, later, a
/// store over custom resources in a Kubernetes cluster. One conformance suite checks them all.
public protocol ResourceStore: Sendable {
    /// Creates an object; 409 AlreadyExists if the name is taken.
    func create(_ object: JSONValue, kind: ResourceKind, dryRun: Bool) async throws -> StoredObject
    /// Reads one object; 404 if absent.
    func get(_ key: ObjectKey) async throws -> StoredObject
    /// Lists objects, paged when `query.limit` is set.
    func list(_ kind: ResourceKind, _ query: ListQuery) async throws -> ListResult
    /// Replaces an object or its status with what `transform` returns, atomically. With
    /// `createIfMissing`, an absent object is created (server-side apply).
    func modify(
        _ key: ObjectKey, subresource: Subresource, createIfMissing: Bool, dryRun: Bool, transform: @escaping ObjectTransform
    ) async throws -> StoredObject
    /// Deletes an object, or marks it for deletion while finalizers remain.
    func delete(_ key: ObjectKey, preconditions: DeletePreconditions, dryRun: Bool) async throws -> DeleteOutcome
    /// Streams changes in resource-version order; with `bookmarks`, also periodic bookmarks.
    func watch(_ kind: ResourceKind, _ query: ListQuery, from start: WatchStart, bookmarks: Bool) async throws -> AsyncStream<WatchItem>
    /// The newest committed resource version.
    func currentResourceVersion() async -> UInt64
}

extension ResourceStore {
    /// Replaces an object with `object`, which must carry the current `resourceVersion`.
    public func update(_ object: JSONValue, kind: ResourceKind, subresource: Subresource = .main, dryRun: Bool = false)
        async throws -> StoredObject
    {
        let metadata = object["metadata"]
        let key = ObjectKey(
            kind, namespace: metadata?["namespace"]?.stringValue ?? "default", name: metadata?["name"]?.stringValue ?? "")
        return try await modify(key, subresource: subresource, createIfMissing: false, dryRun: dryRun) { current in
            guard current != nil else { throw APIError.notFound(kind, key.name) }
            return object
        }
    }
}
