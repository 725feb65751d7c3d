import DeployerCore
import DeployerModel

extension KubeAPI {
    /// Streams watch events as newline-delimited JSON until `timeoutSeconds` or disconnect,
    /// filtered to what the caller may see (see `VisibleEvents`).
    func watch(_ request: APIRequest, path: ResourcePath, caller: Caller) async throws -> APIResponse {
        var query = try listQuery(request, namespace: path.namespace)
        query.limit = nil
        query.continueToken = nil
        let start: WatchStart
        switch request.query["resourceVersion"] ?? "" {
        case "", "0": start = .currentState
        case let text:
            guard let version = UInt64(text) else { throw APIError.badRequest("invalid resourceVersion \"\(text)\"") }
            start = .after(version)
        }
        let bookmarks = request.query["allowWatchBookmarks"] == "true"
        let events = try await store.watch(path.kind, query, from: start, bookmarks: bookmarks)
        let timeout = request.query["timeoutSeconds"].flatMap(Int.init) ?? Int.random(in: 1800..<3600)
        let renderer = wantsTable(request) ? TableRenderer(kind: path.kind, now: now()) : nil
        let (bytes, continuation) = AsyncStream<[UInt8]>.makeStream()
        let producer = Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { try? await Task.sleep(for: .seconds(timeout)) }
                group.addTask {
                    var visible = VisibleEvents(caller: caller, kind: path.kind)
                    for await item in events {
                        let shown: WatchItem?
                        if case .event(let event) = item, !caller.isGlobalAdmin {
                            let context = (try? await accessContext(caller, kind: path.kind, namespace: event.object.key.namespace)) ?? AccessContext()
                            shown = visible.filter(event, context: context).map(WatchItem.event)
                        } else {
                            shown = item
                        }
                        if let shown { continuation.yield(Self.line(for: shown, kind: path.kind, renderer: renderer)) }
                        if case .expired = item { break }
                    }
                }
                await group.next()
                group.cancelAll()
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in producer.cancel() }
        return APIResponse(status: 200, headers: [("Content-Type", "application/json")], body: .stream(bytes))
    }

    static func line(for item: WatchItem, kind: ResourceKind, renderer: TableRenderer?) -> [UInt8] {
        var output: [UInt8] = []
        switch item {
        case .event(let event):
            output.append(contentsOf: "{\"type\":\"\(event.type.rawValue)\",\"object\":".utf8)
            if let renderer {
                renderer.table([event.object], resourceVersion: event.resourceVersion).write(into: &output)
            } else {
                output.append(contentsOf: event.object.json)
            }
        case .bookmark(let version):
            output.append(contentsOf: "{\"type\":\"BOOKMARK\",\"object\":".utf8)
            let object: JSONValue = [
                "kind": .string(kind.kind), "apiVersion": .string(ResourceKind.apiVersion),
                "metadata": ["resourceVersion": .string(String(version))],
            ]
            object.write(into: &output)
        case .expired(let error):
            output.append(contentsOf: "{\"type\":\"ERROR\",\"object\":".utf8)
            error.status.write(into: &output)
        }
        output.append(contentsOf: "}\n".utf8)
        return output
    }
}

/// Filters one watch stream for a caller who is not a global admin: an event is shown when the
/// caller may see its object; an object that stops being visible is shown as DELETED, one that
/// becomes visible as ADDED. (A deployment whose visibility changes through its service's or
/// infrastructure's permissions is re-judged at its own next event.)
struct VisibleEvents {
    let caller: Caller
    let kind: ResourceKind
    private var shown: Set<ObjectKey> = []

    init(caller: Caller, kind: ResourceKind) {
        self.caller = caller
        self.kind = kind
    }

    mutating func filter(_ event: StoreEvent, context: AccessContext) -> StoreEvent? {
        let key = event.object.key
        let visible = AccessRules.canSee(caller, kind, event.object.document, context: context)
        let wasShown = shown.contains(key)
        switch (event.type, visible) {
        case (.deleted, _):
            shown.remove(key)
            return visible || wasShown ? event : nil
        case (_, true):
            shown.insert(key)
            return event.type == .modified && !wasShown ? StoreEvent(type: .added, object: event.object) : event
        case (_, false):
            guard wasShown else { return nil }
            shown.remove(key)
            return StoreEvent(type: .deleted, object: event.object)
        }
    }
}
