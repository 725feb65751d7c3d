import CloudHTTP
import DeployerCore
import DeployerModel

/// One watch on a Kubernetes API server as the store's endless stream: the server ends each
/// watch request after its timeout, so the stream reconnects from the last resource version it
/// saw (a bookmark counts) until the consumer stops — after a pause when the server cannot be
/// reached; a 410 becomes `.expired` and ends it.
struct KubernetesWatch: Sendable {
    let client: KubeClient
    let path: String
    let kind: ResourceKind
    let selectors: [String: String]
    /// How long one watch request may stay open before the server ends it.
    static let requestSeconds = 300

    func stream(from start: WatchStart, bookmarks: Bool) -> AsyncStream<WatchItem> {
        AsyncStream { continuation in
            let task = Task {
                var version: String
                switch start {
                case .currentState: version = "0"
                case .after(let after): version = String(after)
                }
                var failures = 0
                while !Task.isCancelled {
                    var query = selectors
                    query["resourceVersion"] = version
                    query["allowWatchBookmarks"] = bookmarks ? "true" : nil
                    query["timeoutSeconds"] = String(Self.requestSeconds)
                    do {
                        for try await line in client.watch(path, query: query, timeout: .seconds(Int64(Self.requestSeconds + 30))) {
                            let item = try item(line)
                            switch item {
                            case .event(let event):
                                version = String(event.resourceVersion)
                                failures = 0
                            case .bookmark(let at):
                                version = String(at)
                                if !bookmarks { continue }
                            case .expired:
                                continuation.yield(item)
                                continuation.finish()
                                return
                            }
                            continuation.yield(item)
                        }
                    } catch let error as APIError where error.code == 410 {
                        continuation.yield(.expired(error))
                        continuation.finish()
                        return
                    } catch {
                        // The connection broke: reconnect from the last version seen, pausing
                        // longer after each failure in a row (0.2 s doubling up to 30 s).
                        if Task.isCancelled { break }
                        failures += 1
                        try? await Task.sleep(for: .milliseconds(min(30_000, 100 << min(failures, 9))))
                    }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    private func item(_ line: JSONValue) throws -> WatchItem {
        let object = line["object"] ?? .null
        switch line["type"]?.stringValue {
        case "ADDED", "MODIFIED", "DELETED":
            let type = WatchEventType(rawValue: line["type"]?.stringValue ?? "") ?? .modified
            return .event(StoreEvent(type: type, object: try KubernetesResourceStore.object(kind, object)))
        case "BOOKMARK":
            return .bookmark(KubernetesResourceStore.version(object))
        default:
            return .expired(APIError(status: object) ?? APIError.gone("the watch ended with an error"))
        }
    }
}
