import DeployerModel
import Foundation
import Hummingbird
import HTTPTypes
import NIOCore

/// One public query, from the caller's credentials to the query event, for the native routes and
/// the platform ones alike.
extension NodeResponder {
    var tooLarge: Response {
        json(413, QueryError(status: 413, errorType: "PayloadTooLarge", message: "the body is larger than \(NodeServer.maximumQueryBytes) bytes").body)
    }

    /// The request body, or nil when it is larger than a query may be (or the caller went away
    /// while sending it). Its chunks are copied once, into an array of the announced length (a
    /// body collected into a growing buffer and then made an array was copied about three times).
    static func body(of request: Request) async -> [UInt8]? {
        let limit = NodeServer.maximumQueryBytes
        var bytes: [UInt8] = []
        // The first field itself: the subscript joins every value of the name into a new string.
        if let length = request.headers.first(where: { $0.name == .contentLength }).flatMap({ Int($0.value) }) {
            guard length <= limit else { return nil }
            bytes.reserveCapacity(length)
        }
        do {
            for try await chunk in request.body {
                guard bytes.count + chunk.readableBytes <= limit else { return nil }
                bytes.append(contentsOf: chunk.readableBytesView)
            }
        } catch {
            return nil
        }
        return bytes
    }

    /// Checks the caller, runs the query in the endpoint's pool, records metrics and the query
    /// event; returns the answer and the request id.
    func query(_ request: Request, service serviceID: String, endpoint endpointID: String, verb: String, body bytes: [UInt8]) async
        -> (PublicAPI.Answer, String)
    {
        let started = ContinuousClock.now
        let table = runtime.table
        let service = table.services[serviceID]
        let query = Self.query(request.uri.query ?? "")
        let tuning = service?.tuning[endpointID] ?? .defaults
        let pool = pools.pool(service: serviceID, endpoint: endpointID, tuning: tuning)
        let publicAPI = self.publicAPI
        let forcedGeneration = request.headers[Self.forcedGenerationHeader]
        var caller: String?
        var generator = QueryRandom()
        let requestID = QueryEvent.requestID(given: request.headers[Self.requestIDHeader], using: &generator)
        if let gate = service?.callerGate {
            switch await gate.admit(request.headers[.authorization], endpoint: endpointID, adminKeys: admin.keys) {
            case .allowed(let id): caller = id
            case .unauthorized:
                return (PublicAPI.Answer(status: 401, body: QueryError(status: 401, errorType: "Unauthorized", message: "authentication required").body, generation: nil), requestID)
            case .forbidden:
                let refusal = QueryError(status: 403, errorType: "Forbidden", message: "this key may not query endpoint \(endpointID)")
                return (PublicAPI.Answer(status: 403, body: refusal.body, generation: nil), requestID)
            }
        }
        let answer: PublicAPI.Answer
        do {
            answer = try await pool.run {
                var generator = QueryRandom()
                return await publicAPI.handle(
                    table, service: serviceID, endpoint: endpointID, verb: verb, body: bytes, query: query, forcedGeneration: forcedGeneration,
                    using: &generator)
            }
        } catch let rejection as PoolRejection {
            let reason = rejection == .queueFull ? "the endpoint's queue is full" : "the query waited longer than \(tuning.timeoutMs) ms"
            answer = PublicAPI.Answer(
                status: 503, body: QueryError(status: 503, errorType: "ServiceUnavailable", message: "\(reason); try again").body, generation: nil)
        } catch {
            answer = PublicAPI.Answer(status: 500, body: QueryError(status: 500, errorType: "InternalError", message: "\(error)").body, generation: nil)
        }
        let elapsed = ContinuousClock.now - started
        let endpoint = service?.endpoints.contains(endpointID) == true ? endpointID : "unknown"
        metrics.record(
            service: service == nil ? "unknown" : serviceID, endpoint: endpoint, generation: answer.generation ?? "none", status: answer.status,
            duration: elapsed)
        let logging = service?.logging
        if logging?.logQueries ?? true {
            queryLog.record(
                QueryEvent(requestID: requestID, service: serviceID, endpoint: endpointID, verb: verb, answer: answer, elapsed: elapsed, authKeyID: caller),
                logging: logging)
        }
        return (answer, requestID)
    }

    /// A platform route: health (200 once the generation serves) or scoring in the platform's shape.
    func platformResponse(_ request: Request, platform: PlatformServing, route: PlatformServing.Route) async -> Response {
        switch route {
        case .health:
            let serving = runtime.table.services[platform.service]?.mapping != nil
            return json(serving ? 200 : 503, ["status": serving ? "ready" : "no generation serves yet"])
        case .score:
            guard let bytes = await Self.body(of: request) else { return tooLarge }
            guard let native = platform.nativeRequest(bytes) else {
                return json(400, QueryError(status: 400, errorType: "BadRequest", message: platform.shapeError).body)
            }
            let (answer, requestID) = await query(request, service: platform.service, endpoint: platform.endpoint, verb: native.verb, body: native.body)
            let body = answer.status == 200 ? platform.platformAnswer(answer.body, request: bytes) : answer.body
            return json(answer.status, body, requestID: requestID)
        }
    }
}
