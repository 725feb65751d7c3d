import DeployerModel

/// One committed change, as a journal persists it.
public struct JournalRecord: Sendable {
    public let event: StoreEvent
    /// Whether the object exists after this change (false for DELETED).
    public var isDeletion: Bool { event.type == .deleted }

    public init(event: StoreEvent) { self.event = event }
}

/// What a journal holds when a store starts.
public struct JournalSnapshot: Sendable {
    public var objects: [StoredObject]
    /// The most recent changes, oldest first, for watches that resume from a resource version.
    public var recentEvents: [StoreEvent]
    public var lastResourceVersion: UInt64

    public init(objects: [StoredObject] = [], recentEvents: [StoreEvent] = [], lastResourceVersion: UInt64 = 0) {
        self.objects = objects
        self.recentEvents = recentEvents
        self.lastResourceVersion = lastResourceVersion
    }
}

/// Durable persistence behind an `ObjectStore`. `append` returns only once the records are
/// durable: a write acknowledged after it survives a crash.
public protocol StoreJournal: Sendable {
    /// Reads everything back at start.
    func load() async throws -> JournalSnapshot
    /// Persists a batch of changes atomically and durably.
    func append(_ records: [JournalRecord]) async throws
    /// Releases the underlying files; no call may follow.
    func close() async throws
}
