import Foundation
import ServiceLifecycle

/// Where an informer reads objects: a consistent list with its version, and a watch of every
/// change after a version (the Kubernetes list/watch contract; the embedded store and the
/// Kubernetes client both provide it).
public protocol ListWatchSource: Sendable {
    associatedtype Object: Sendable
    /// Every object, and the version the list was read at.
    func list() async throws -> (objects: [Object], version: String)
    /// Changes after `version`, in order. A watch whose version is too old ends with `.expired`.
    func watch(from version: String) async throws -> AsyncThrowingStream<SourceEvent<Object>, any Error>
    /// The object's `namespace/name`.
    func key(of object: Object) -> String
}

/// One change seen by a watch.
public enum SourceEvent<Object: Sendable>: Sendable {
    case added(Object, version: String)
    case modified(Object, version: String)
    case deleted(Object, version: String)
    /// Nothing changed up to `version` (a watch bookmark).
    case bookmark(version: String)
    /// The watch's version is no longer available (HTTP 410): list again.
    case expired
}

/// A change delivered to the informer's handlers: `old` nil for a new object, `new` nil for a
/// deleted one, both equal for a resync.
public struct CacheChange<Object: Sendable>: Sendable {
    public let key: String
    public let old: Object?
    public let new: Object?
}

/// Keeps a local, indexed copy of a source's objects current — list, then watch; list again
/// when the watch expires or fails (after a backoff on the injected clock) — and tells handlers
/// about every change. Every `resyncPeriod` it replays each cached object to the handlers as an
/// update, without calling the source. Indexes answer "which objects name this value" (for
/// example deployments by infrastructure) so a change to one object can re-queue its dependents.
public final class Informer<Source: ListWatchSource, C: Clock>: Service, @unchecked Sendable where C.Duration == Duration {
    public typealias Object = Source.Object
    public typealias Indexer = @Sendable (Object) -> [String]
    public typealias Handler = @Sendable (CacheChange<Object>) -> Void

    private let source: Source
    private let clock: C
    private let resyncPeriod: Duration?
    private let retryDelay: Duration
    private let indexers: [String: Indexer]
    private let lock = NSLock()
    private var objects: [String: Object] = [:]
    private var indexes: [String: [String: Set<String>]] = [:]
    private var handlers: [Handler] = []
    private var synced = false
    private var syncWaiters: [UUID: CheckedContinuation<Void, Never>] = [:]

    public init(source: Source, clock: C, resyncPeriod: Duration? = nil, retryDelay: Duration = .seconds(1), indexers: [String: Indexer] = [:]) {
        self.source = source
        self.clock = clock
        self.resyncPeriod = resyncPeriod
        self.retryDelay = retryDelay
        self.indexers = indexers
    }

    /// Adds a handler; call before `run`.
    public func onChange(_ handler: @escaping Handler) { lock.withLock { handlers.append(handler) } }

    /// The cached object with `key`.
    public func object(_ key: String) -> Object? { lock.withLock { objects[key] } }

    /// Every cached object.
    public func list() -> [Object] { lock.withLock { Array(objects.values) } }

    /// The cached objects whose `index` values include `value`.
    public func objects(index: String, value: String) -> [Object] {
        lock.withLock { (indexes[index]?[value] ?? []).compactMap { objects[$0] } }
    }

    /// True once the first list is in the cache.
    public var hasSynced: Bool { lock.withLock { synced } }

    /// Returns once the first list is in the cache, or when the task is cancelled (check
    /// `hasSynced` then).
    public func waitUntilSynced() async {
        let id = UUID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let done = lock.withLock {
                    if synced || Task.isCancelled { return true }
                    syncWaiters[id] = continuation
                    return false
                }
                if done { continuation.resume() }
            }
        } onCancel: {
            lock.withLock { syncWaiters.removeValue(forKey: id) }?.resume()
        }
    }

    /// Lists and watches until graceful shutdown or cancellation.
    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await withThrowingTaskGroup(of: Void.self) { group in
                if let period = self.resyncPeriod {
                    group.addTask {
                        while true {
                            try await self.clock.sleep(for: period)
                            self.resync()
                        }
                    }
                }
                group.addTask { try await self.listAndWatch() }
                try await group.next()
                group.cancelAll()
            }
        }
    }

    private func listAndWatch() async throws {
        while !Task.isCancelled {
            do {
                let (listed, listVersion) = try await source.list()
                replaceAll(listed)
                // Watch from the newest version seen; a watch that simply ends is resumed, one
                // whose version expired needs a new list.
                var version: String? = listVersion
                while let from = version {
                    events: for try await event in try await source.watch(from: from) {
                        switch event {
                        case .expired:
                            version = nil
                            break events
                        case .added(_, let seen), .modified(_, let seen), .deleted(_, let seen), .bookmark(let seen):
                            version = seen
                            apply(event)
                        }
                    }
                    if Task.isCancelled { return }
                }
            } catch is CancellationError {
                return
            } catch {
                try await clock.sleep(for: retryDelay)
            }
        }
    }

    /// Replaces the cache with a fresh list, telling handlers what changed since the last one.
    private func replaceAll(_ listed: [Object]) {
        let (changes, handlers, waiters): ([CacheChange<Object>], [Handler], [UUID: CheckedContinuation<Void, Never>]) = lock.withLock {
            var fresh: [String: Object] = [:]
            for object in listed { fresh[source.key(of: object)] = object }
            var changes = fresh.map { key, object in CacheChange(key: key, old: objects[key], new: object) }
            changes += objects.filter { fresh[$0.key] == nil }.map { CacheChange(key: $0.key, old: $0.value, new: nil) }
            for change in changes { storeLocked(change) }
            synced = true
            defer { syncWaiters = [:] }
            return (changes, self.handlers, syncWaiters)
        }
        for waiter in waiters.values { waiter.resume() }
        for change in changes { for handler in handlers { handler(change) } }
    }

    private func apply(_ event: SourceEvent<Object>) {
        let (object, deleted): (Object, Bool)
        switch event {
        case .added(let added, _), .modified(let added, _): (object, deleted) = (added, false)
        case .deleted(let gone, _): (object, deleted) = (gone, true)
        case .bookmark, .expired: return
        }
        let key = source.key(of: object)
        let (change, handlers) = lock.withLock {
            // A deletion of an object never cached still reports its last state as `old`.
            let change = CacheChange(key: key, old: objects[key] ?? (deleted ? object : nil), new: deleted ? nil : object)
            storeLocked(change)
            return (change, self.handlers)
        }
        for handler in handlers { handler(change) }
    }

    private func resync() {
        let (changes, handlers) = lock.withLock {
            (objects.map { CacheChange(key: $0.key, old: $0.value, new: $0.value) }, self.handlers)
        }
        for change in changes { for handler in handlers { handler(change) } }
    }

    /// Writes a change into the cache and its indexes (called under the lock).
    private func storeLocked(_ change: CacheChange<Object>) {
        for (name, indexer) in indexers {
            for value in change.old.map(indexer) ?? [] { indexes[name]?[value]?.remove(change.key) }
            for value in change.new.map(indexer) ?? [] { indexes[name, default: [:]][value, default: []].insert(change.key) }
        }
        objects[change.key] = change.new
    }
}
