import DeployerModel
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// `apideployer eventserver serve`: `POST /events?topic=T&routingKey=R` (one event, a JSON array
/// or NDJSON; key in `X-Event-Key` or `Authorization: Bearer`), `GET /metrics`, `GET /healthz`.
public enum EventServerAssembly {
    /// Largest ingest body (413 beyond).
    public static let maximumBodyBytes = 32 * 1024 * 1024

    /// Repairs torn last lines under `root`, then builds the writer and the HTTP server on
    /// `host:port` (0 picks a free port); `onListening` gets the URL. Run the services in order:
    /// the server stops first, then the writer commits what is queued.
    public static func services(
        root: URL, config: EventServerConfig, host: String, port: Int, logger: Logger, onListening: @escaping @Sendable (String) async -> Void
    ) throws -> [any Service] {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        for path in try TornLineRepair.repair(root: root) { logger.warning("cut a torn last line left by a crash in \(path)") }
        let metrics = EventServerMetrics()
        let appender = DurableAppender(root: root, maxFileBytes: config.maxFileBytes) { events, bytes, duration in
            metrics.stored(events: events, bytes: bytes, commit: duration)
        }
        let ingest = EventIngest(config: config, appender: appender, metrics: metrics, now: Date.init)
        let application = Application(
            responder: EventResponder(ingest: ingest, metrics: metrics),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "eventserver"),
            onServerRunning: { channel in await onListening("http://\(host):\(channel.localAddress?.port ?? port)") }, logger: logger)
        return [AppenderService(appender: appender), application]
    }
}

/// Stops the writer at shutdown, once the HTTP server has stopped taking events.
struct AppenderService: Service {
    let appender: DurableAppender

    func run() async throws {
        try? await gracefulShutdown()
        appender.stop()
    }
}

/// A request context that keeps the caller's address (`origAddress` of stored events).
struct EventRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

struct EventResponder: HTTPResponder {
    typealias Context = EventRequestContext
    let ingest: EventIngest
    let metrics: EventServerMetrics

    func respond(to request: Request, context: Context) async throws -> Response {
        switch (request.method, request.uri.path) {
        case (.post, "/events"):
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: EventServerAssembly.maximumBodyBytes)
            } catch {
                metrics.rejected("too-large")
                return json(413, ["message": .string("the body is larger than \(EventServerAssembly.maximumBodyBytes) bytes"), "reason": "too-large"])
            }
            let parameters = request.uri.queryParameters
            let contentType = request.headers[.contentType] ?? ""
            let answer = await ingest.ingest(
                topic: parameters.get("topic"), routingKey: parameters.get("routingKey"), key: Self.key(request.headers),
                ndjson: contentType.contains("ndjson") || contentType.contains("jsonl"), body: Array(body.readableBytesView),
                origin: context.remoteAddress?.ipAddress ?? "")
            return json(answer.status, answer.body)
        case (.get, "/metrics"):
            var fields = HTTPFields()
            fields.append(HTTPField(name: .contentType, value: "text/plain; version=0.0.4"))
            return Response(status: .ok, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.exposition())))
        case (.get, "/healthz"):
            return json(200, ["ok": true])
        default:
            return json(404, ["message": .string("no such path \(request.method) \(request.uri.path)"), "reason": "not-found"])
        }
    }

    private static func key(_ headers: HTTPFields) -> String? {
        if let key = headers[HTTPField.Name("X-Event-Key")!] { return key }
        guard let authorization = headers[.authorization], authorization.hasPrefix("Bearer ") else { return nil }
        return String(authorization.dropFirst("Bearer ".count))
    }

    private func json(_ status: Int, _ body: JSONValue) -> Response {
        var fields = HTTPFields()
        fields.append(HTTPField(name: .contentType, value: "application/json"))
        return Response(status: HTTPResponse.Status(code: status), headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body.serialized(sortingKeys: false))))
    }
}
