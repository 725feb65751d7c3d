import DeployerModel
import ReconcileKit

/// One kind of a `ResourceStore` as an informer's source: a complete list (all pages) with its
/// resource version, and the store's ordered watch from it, bookmarks included.
public struct StoreListWatch: ListWatchSource {
    public let store: any ResourceStore
    public let kind: ResourceKind
    public let query: ListQuery

    public init(store: any ResourceStore, kind: ResourceKind, query: ListQuery = ListQuery()) {
        self.store = store
        self.kind = kind
        self.query = query
    }

    public func list() async throws -> (objects: [StoredObject], version: String) {
        var page = query
        page.limit = 500
        var objects: [StoredObject] = []
        var version: UInt64?
        repeat {
            let result = try await store.list(kind, page)
            objects += result.items
            version = version ?? result.resourceVersion
            page.continueToken = result.continueToken
        } while page.continueToken != nil
        return (objects, String(version ?? 0))
    }

    public func watch(from version: String) async throws -> AsyncThrowingStream<SourceEvent<StoredObject>, any Error> {
        guard let start = UInt64(version) else { throw APIError.badRequest("invalid resource version \"\(version)\"") }
        let items = try await store.watch(kind, query, from: .after(start), bookmarks: true)
        return AsyncThrowingStream { continuation in
            let forwarding = Task {
                for await item in items {
                    switch item {
                    case .event(let event):
                        let seen = String(event.object.resourceVersion)
                        switch event.type {
                        case .added: continuation.yield(.added(event.object, version: seen))
                        case .modified: continuation.yield(.modified(event.object, version: seen))
                        case .deleted: continuation.yield(.deleted(event.object, version: seen))
                        }
                    case .bookmark(let seen):
                        continuation.yield(.bookmark(version: String(seen)))
                    case .expired:
                        continuation.yield(.expired)
                    }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in forwarding.cancel() }
        }
    }

    public func key(of object: StoredObject) -> String { "\(object.key.namespace)/\(object.key.name)" }
}
