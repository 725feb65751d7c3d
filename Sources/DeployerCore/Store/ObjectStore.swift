import DeployerModel
import Foundation

/// The embedded `ResourceStore`: objects in memory, every change journaled before it is
/// acknowledged (SQLite in `apideployer serve`, nothing in the in-memory variant used by tests).
///
/// Writes are group-committed: the first writer to arrive drains the queue, applies the batch
/// against an overlay, appends it to the journal in one durable transaction, then publishes it.
/// Readers and watchers only ever see committed changes, so a resource version they saw is
/// never reused after a crash.
public actor ObjectStore: ResourceStore {
    struct PendingWrite {
        let operation: WriteOperation
        let ticket: WriteTicket
    }

    let rules: WriteRules
    let journal: (any StoreJournal)?
    let historyLimit: Int
    let now: @Sendable () -> Date

    var objects: [ResourceKind: [ObjectKey: StoredObject]] = [:]
    var lastResourceVersion: UInt64 = 0
    /// Recent committed events, oldest first, bounded by `historyLimit`.
    var history: [StoreEvent] = []
    var historyStart = 0
    var watchers: [UUID: Watcher] = [:]
    var pending: [PendingWrite] = []
    var isDraining = false
    var listSnapshots = ListSnapshots()

    /// Opens a store over `journal` (nil: memory only), loading what it holds.
    public init(
        journal: (any StoreJournal)? = nil, historyLimit: Int = 10_000, rules: WriteRules = WriteRules(),
        now: @escaping @Sendable () -> Date = Date.init
    ) async throws {
        self.journal = journal
        self.historyLimit = historyLimit
        self.rules = rules
        self.now = now
        if let journal {
            let snapshot = try await journal.load()
            for object in snapshot.objects { objects[object.key.kind, default: [:]][object.key] = object }
            history = Array(snapshot.recentEvents.suffix(historyLimit))
            lastResourceVersion = snapshot.lastResourceVersion
        }
    }

    public func currentResourceVersion() -> UInt64 { lastResourceVersion }

    public func get(_ key: ObjectKey) throws -> StoredObject {
        guard let object = objects[key.kind]?[key] else { throw APIError.notFound(key.kind, key.name) }
        return object
    }

    public func create(_ object: JSONValue, kind: ResourceKind, dryRun: Bool) async throws -> StoredObject {
        try await perform(.create(kind: kind, document: object, dryRun: dryRun)).object
    }

    public func modify(
        _ key: ObjectKey, subresource: Subresource, createIfMissing: Bool, dryRun: Bool, transform: @escaping ObjectTransform
    ) async throws -> StoredObject {
        try await perform(
            .modify(key: key, subresource: subresource, createIfMissing: createIfMissing, dryRun: dryRun, transform: transform)
        ).object
    }

    public func delete(_ key: ObjectKey, preconditions: DeletePreconditions, dryRun: Bool) async throws -> DeleteOutcome {
        let result = try await perform(.delete(key: key, preconditions: preconditions, dryRun: dryRun))
        return result.removed ? .deleted(result.object) : .finalizing(result.object)
    }

    /// Queues a write and waits until it is committed (or refused).
    private func perform(_ operation: WriteOperation) async throws -> WriteResult {
        let ticket = WriteTicket()
        pending.append(PendingWrite(operation: operation, ticket: ticket))
        if !isDraining {
            isDraining = true
            await drain()
            isDraining = false
        }
        return try await ticket.value()
    }

    /// Commits queued writes batch by batch until the queue is empty.
    private func drain() async {
        while !pending.isEmpty {
            let batch = pending
            pending = []
            var overlay = Overlay()
            var results: [Result<WriteResult, any Error>] = []
            var records: [JournalRecord] = []
            let firstVersion = lastResourceVersion
            for write in batch {
                results.append(Result { try apply(write.operation, overlay: &overlay, records: &records) })
            }
            if !records.isEmpty, let journal {
                do {
                    try await journal.append(records)
                } catch {
                    lastResourceVersion = firstVersion
                    let failure = APIError.internalError("storage write failed: \(error)")
                    results = results.map { result in result.flatMap { _ in .failure(failure) } }
                    records = []
                    overlay = Overlay()
                }
            }
            commit(overlay: overlay, records: records)
            for (write, result) in zip(batch, results) { write.ticket.resolve(result) }
        }
    }

    /// Makes a batch visible: objects, history, watchers.
    private func commit(overlay: Overlay, records: [JournalRecord]) {
        for (key, object) in overlay.changes {
            if let object { objects[key.kind, default: [:]][key] = object } else { objects[key.kind]?[key] = nil }
        }
        for record in records {
            appendToHistory(record.event)
            publish(record.event)
        }
    }

    private func appendToHistory(_ event: StoreEvent) {
        history.append(event)
        if history.count > historyLimit * 2 {
            history.removeFirst(history.count - historyLimit)
        }
    }

    /// The oldest resource version a watch can still resume after.
    var oldestResumableVersion: UInt64 {
        let retained = history.suffix(historyLimit)
        guard let first = retained.first else { return lastResourceVersion }
        return first.resourceVersion - 1
    }

    /// Retained events, oldest first.
    var retainedHistory: ArraySlice<StoreEvent> { history.suffix(historyLimit) }
}

/// A write as queued.
enum WriteOperation: Sendable {
    case create(kind: ResourceKind, document: JSONValue, dryRun: Bool)
    case modify(key: ObjectKey, subresource: Subresource, createIfMissing: Bool, dryRun: Bool, transform: ObjectTransform)
    case delete(key: ObjectKey, preconditions: DeletePreconditions, dryRun: Bool)
}

/// What a committed write returns.
struct WriteResult: Sendable {
    let object: StoredObject
    let removed: Bool
}

/// Changes of the batch being applied, visible to later writes of the same batch only.
struct Overlay {
    var changes: [ObjectKey: StoredObject?] = [:]
}

/// The rendezvous between a queued write and its caller; used only on the store's actor.
final class WriteTicket: @unchecked Sendable {
    private var result: Result<WriteResult, any Error>?
    private var continuation: CheckedContinuation<WriteResult, any Error>?

    func resolve(_ result: Result<WriteResult, any Error>) {
        if let continuation {
            continuation.resume(with: result)
        } else {
            self.result = result
        }
    }

    func value(isolation: isolated (any Actor)? = #isolation) async throws -> WriteResult {
        if let result { return try result.get() }
        return try await withCheckedThrowingContinuation { continuation in self.continuation = continuation }
    }
}
