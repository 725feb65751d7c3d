import DeployerModel
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// `apideployer eventserver serve`: `POST /events?topic=T&routingKey=R` (one event, a JSON array
/// or NDJSON; key in `X-Event-Key` or `Authorization: Bearer`), `GET /events` (read back, can
/// follow), `GET /metrics`, `GET /healthz`.
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
        let compressor = EventFileCompressor(logger: logger)
        let closed = try EventFileCompressor.recover(root: root)
        for path in try TornLineRepair.repair(root: root) { logger.warning("cut a torn last line left by a crash in \(path)") }
        for path in closed { compressor.compressLater(path) }
        let metrics = EventServerMetrics()
        let appender = DurableAppender(root: root, maxFileBytes: config.maxFileBytes, compressor: compressor) { events, bytes, duration in
            metrics.stored(events: events, bytes: bytes, commit: duration)
        }
        let access = EventAccess(config: config)
        let ingest = EventIngest(access: access, appender: appender, metrics: metrics, now: Date.init)
        let application = Application(
            responder: EventResponder(ingest: ingest, access: access, reader: EventReader(root: root), metrics: metrics),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "eventserver"),
            onServerRunning: { channel in await onListening("http://\(host):\(channel.localAddress?.port ?? port)") }, logger: logger)
        return [AppenderService(appender: appender, compressor: compressor), application]
    }
}

/// Stops the writer and the compressor at shutdown, once the HTTP server has stopped taking events.
struct AppenderService: Service {
    let appender: DurableAppender
    let compressor: EventFileCompressor

    func run() async throws {
        try? await gracefulShutdown()
        appender.stop()
        compressor.stop()
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
    let access: EventAccess
    let reader: EventReader
    let metrics: EventServerMetrics

    /// How often a follower looks for new lines, and after how long without any it sends an
    /// empty line (so that a client that went away is noticed).
    static let followPoll: Duration = .milliseconds(200)
    static let heartbeat: Duration = .seconds(5)

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
        case (.get, "/events"):
            return read(request)
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

    /// `GET /events?topic=T&routingKey=R&since=1h&until=…&follow=true`: the stored lines as NDJSON.
    private func read(_ request: Request) -> Response {
        let parameters = request.uri.queryParameters
        do {
            let topic = try EventAccess.checkedName(parameters.get("topic"), parameter: "topic")
            let routingKey = try EventAccess.checkedName(parameters.get("routingKey") ?? EventIngest.defaultRoutingKey, parameter: "routingKey")
            let destinations = try access.destinations(topic: topic, routingKey: routingKey, key: Self.key(request.headers))
            let now = Date()
            let since = try EventReader.time(parameters.get("since") ?? "1h", now: now, parameter: "since")
            let until = try parameters.get("until").map { try EventReader.time($0, now: now, parameter: "until") }
            guard now.timeIntervalSince(since) <= EventReader.maximumLookBack else {
                throw EventAccess.Refusal(status: 400, reason: "bad-request", message: "since: at most 90 days back")
            }
            let follow = parameters.get("follow") == "true" && until == nil
            let reader = reader
            let body = ResponseBody { writer in
                let sinceText = EventEnvelope.timestamp(since)
                let untilText = until.map(EventEnvelope.timestamp) ?? "9999"
                var offsets: [String: Int] = [:]
                var quietSince = ContinuousClock.now
                var scanFrom = since
                while true {
                    let passStart = Date()
                    for file in reader.files(destinations: destinations, topic: topic, routingKey: routingKey, since: scanFrom, until: until ?? passStart) {
                        let position = EventReader.positionKey(file)
                        guard offsets[position] != EventReader.finished else { continue }
                        let (lines, offset) = try EventReader.lines(of: file, from: offsets[position] ?? 0, since: sinceText, until: untilText)
                        offsets[position] = offset
                        guard !lines.isEmpty else { continue }
                        try await writer.write(ByteBuffer(bytes: lines))
                        quietSince = ContinuousClock.now
                    }
                    guard follow, !Task.isShuttingDownGracefully else { break }
                    // New lines go to the hour folder of their arrival: a follower looks again only
                    // at the folders from a minute before this pass (commits in flight) on, not at
                    // every hour since `since`.
                    scanFrom = max(since, passStart.addingTimeInterval(-60))
                    if ContinuousClock.now - quietSince >= Self.heartbeat {
                        try await writer.write(ByteBuffer(string: "\n"))
                        quietSince = ContinuousClock.now
                    }
                    try await Task.sleep(for: Self.followPoll)
                }
                try await writer.finish(nil)
            }
            var fields = HTTPFields()
            fields.append(HTTPField(name: .contentType, value: "application/x-ndjson"))
            return Response(status: .ok, headers: fields, body: body)
        } catch let refusal as EventAccess.Refusal {
            metrics.rejected(refusal.reason)
            return json(refusal.status, ["message": .string(refusal.message), "reason": .string(refusal.reason)])
        } catch {
            return json(500, ["message": .string("\(error)"), "reason": "internal"])
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
