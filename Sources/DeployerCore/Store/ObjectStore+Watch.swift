import DeployerModel
import Foundation

/// A registered watch: its filter and the stream it feeds.
struct Watcher {
    let kind: ResourceKind
    let query: ListQuery
    let wantsBookmarks: Bool
    let continuation: AsyncStream<WatchItem>.Continuation
}

extension ObjectStore {
    /// The most events a watcher may have queued before it is cut off (it then resumes from
    /// the last resource version it saw, like a client of a real API server).
    static let watcherBufferLimit = 50_000

    public func watch(_ kind: ResourceKind, _ query: ListQuery, from start: WatchStart, bookmarks: Bool = false) throws
        -> AsyncStream<WatchItem>
    {
        let (stream, continuation) = AsyncStream<WatchItem>.makeStream(bufferingPolicy: .bufferingOldest(Self.watcherBufferLimit))
        switch start {
        case .currentState:
            for object in (objects[kind] ?? [:]).values.sorted(by: { $0.key < $1.key }) where query.matches(object) {
                continuation.yield(.event(StoreEvent(type: .added, object: object)))
            }
        case .after(let version):
            if version < oldestResumableVersion {
                continuation.yield(
                    .expired(APIError.gone("too old resource version: \(version) (\(oldestResumableVersion + 1))")))
                continuation.finish()
                return stream
            }
            for event in retainedHistory where event.resourceVersion > version {
                if event.object.key.kind == kind, query.matches(event.object) { continuation.yield(.event(event)) }
            }
        }
        let id = UUID()
        watchers[id] = Watcher(kind: kind, query: query, wantsBookmarks: bookmarks, continuation: continuation)
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            Task { await self.removeWatcher(id) }
        }
        return stream
    }

    func removeWatcher(_ id: UUID) {
        watchers[id] = nil
    }

    /// Sends a committed event to every watcher whose filter matches.
    func publish(_ event: StoreEvent) {
        for (id, watcher) in watchers where watcher.kind == event.object.key.kind && watcher.query.matches(event.object) {
            if case .dropped = watcher.continuation.yield(.event(event)) {
                watcher.continuation.finish()
                watchers[id] = nil
            }
        }
    }

    /// Sends a bookmark at the newest committed version to every watcher that asked for them.
    /// Events are published to watchers inside the actor as they commit, so each bookmark
    /// follows every event it covers in the watcher's stream.
    public func sendBookmarks() {
        for watcher in watchers.values where watcher.wantsBookmarks {
            watcher.continuation.yield(.bookmark(lastResourceVersion))
        }
    }

    /// Ends every open watch (a server shutting down).
    public func finishWatches() {
        for watcher in watchers.values { watcher.continuation.finish() }
        watchers = [:]
    }

    /// Ends every watch and closes the journal; the store is unusable afterwards.
    public func close() async throws {
        finishWatches()
        try await journal?.close()
    }

    /// Test hook: forgets history so that older resource versions become too old.
    public func compactHistory() {
        history = []
    }
}
