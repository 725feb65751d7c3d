import DeployerCore
import DeployerModel

extension KubeAPI {
    /// Streams watch events as newline-delimited JSON until `timeoutSeconds` or disconnect.
    func watch(_ request: APIRequest, path: ResourcePath) async throws -> APIResponse {
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
                    for await item in events {
                        continuation.yield(Self.line(for: item, kind: path.kind, renderer: renderer))
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
