import DeployerModel
import Foundation
import ModelRuntime

/// The public query API (`/public/api/v1/{service}/{endpoint}/{verb}`) for prediction
/// endpoints: `predict`, `predict-multi`, `predict-simple`, with the request and response
/// shapes existing clients of the Dataiku API node use. Framework-free: the server adapter
/// passes the parsed request in and writes the answer out.
public struct PublicAPI: Sendable {
    public static let apiVersion = "v1"
    public static let productVersion = "apideployer-0.1.0"

    /// An answer: status, JSON body, the generation that served it, and the request as read
    /// (for logs and metrics).
    public struct Answer: Sendable {
        public let status: Int
        let content: Content
        public let generation: String?
        let request: QueryRequest?

        enum Content: Sendable {
            case value(JSONValue)
            /// A native model's answer, already written.
            case prediction(PredictionAnswer)
        }

        public init(status: Int, body: JSONValue, generation: String?, request: JSONValue? = nil) {
            self.init(status: status, content: .value(body), generation: generation, request: request.map { .value($0) })
        }

        init(status: Int, content: Content, generation: String?, request: QueryRequest?) {
            self.status = status
            self.content = content
            self.generation = generation
            self.request = request
        }

        /// The body as a JSON value.
        public var body: JSONValue {
            switch content {
            case .value(let value): value
            case .prediction(let answer): (try? JSONValue.parse(answer.bytes)) ?? .null
            }
        }

        /// The body as sent.
        public var bytes: [UInt8] {
            switch content {
            case .value(let value): value.serialized(sortingKeys: false)
            case .prediction(let answer): answer.bytes
            }
        }
    }

    public init() {}

    /// Handles one query against a snapshot of what the node serves.
    /// `forcedGeneration` (the `X-Forced-Generation` header) overrides the body's `dispatch`.
    public func handle(
        _ table: ServingTable, service serviceID: String, endpoint endpointID: String, verb: String, body: [UInt8],
        query: [String: String], forcedGeneration: String? = nil, using generator: inout some RandomNumberGenerator
    ) async -> Answer {
        var request: QueryRequest?
        do {
            let routed = try route(table, serviceID, endpointID, verb, body, query, forcedGeneration, &generator, parsed: &request)
            return try await answer(routed, table, serviceID, endpointID, verb)
        } catch let error as QueryError {
            return Answer(status: error.status, content: .value(error.body), generation: nil, request: request)
        } catch {
            let failure = QueryError(status: 500, errorType: "InternalError", message: "\(error)")
            return Answer(status: 500, content: .value(failure.body), generation: nil, request: request)
        }
    }

    /// A query routed to one generation's package.
    struct Routed {
        let request: QueryRequest
        let body: [UInt8]
        /// The query string of a `predict-simple` query.
        let simpleQuery: [String: String]?
        let generation: String
        let package: ValidatedPackage

        /// The request as a JSON value, for the endpoints that take any JSON.
        func value() throws -> JSONValue {
            switch request {
            case .value(let value): return value
            case .prediction:
                if let simpleQuery { return ["features": .object(simpleQuery.mapValues { .string($0) })] }
                return try JSONValue.parse(body)
            }
        }
    }

    /// Parses the request and picks the generation that serves it.
    private func route(
        _ table: ServingTable, _ serviceID: String, _ endpointID: String, _ verb: String, _ body: [UInt8],
        _ query: [String: String], _ forcedGeneration: String?, _ generator: inout some RandomNumberGenerator, parsed: inout QueryRequest?
    ) throws -> Routed {
        guard let service = table.services[serviceID] else { throw QueryError.notFound("unknown service \"\(serviceID)\"") }
        guard service.enabled else { throw QueryError.unavailable("service \"\(serviceID)\" is disabled") }
        let request = try parse(verb: verb, body: body, query: query)
        parsed = request
        // The body of `run` and `query` holds only the caller's arguments, never `dispatch`.
        let dispatch = verb == "run" || verb == "query" ? nil : request[member: "dispatch"]
        let generation: String
        do {
            generation = try service.dispatcher.choose(
                forcedGeneration: forcedGeneration ?? dispatch?["forcedGeneration"]?.stringValue,
                dispatchKey: dispatch?["dispatchKey"]?.stringValue, using: &generator)
        } catch let error as DispatchError {
            throw error == .noActiveGeneration ? QueryError.unavailable("\(error)") : QueryError.badRequest("\(error)")
        }
        guard let package = service.generations[generation] else { throw QueryError.unavailable("generation \"\(generation)\" is not loaded") }
        return Routed(request: request, body: body, simpleQuery: verb == "predict-simple" ? query : nil, generation: generation, package: package)
    }

    private func answer(_ routed: Routed, _ table: ServingTable, _ serviceID: String, _ endpointID: String, _ verb: String) async throws -> Answer {
        let generation = routed.generation
        let context = APIContext(service: serviceID, endpoint: endpointID, generation: generation)
        if let pool = routed.package.python[endpointID] {
            return try await PythonQueries.answer(pool, verb: verb, request: try routed.value(), generation: generation, apiContext: context.value)
        }
        if DataQueries.serves(routed.package, endpointID) {
            return try await DataQueries.answer(routed.package, endpointID, verb: verb, request: try routed.value(), generation: generation, apiContext: context.value)
        }
        guard verb != "run" else { throw QueryError.notFound("unknown verb \"run\" for a prediction endpoint") }
        guard let endpoint = routed.package.models[endpointID] else {
            throw QueryError.notFound("service \"\(serviceID)\" has no endpoint \"\(endpointID)\"")
        }
        guard case .prediction(let request) = routed.request else {
            throw QueryError.notFound("unknown verb \"\(verb)\" for a prediction endpoint")
        }
        if let problem = request.recordsProblem { throw problem }
        let started = ContinuousClock.now
        let scored: ScoredRows
        let prepared: ContinuousClock.Instant
        do {
            let feeds = try endpoint.features.feeds(for: request.records)
            prepared = ContinuousClock.now
            scored = try endpoint.reader.read(try endpoint.model.evaluate(feeds: feeds), rows: request.records.count)
        } catch let error as FeatureError {
            throw QueryError.badRequest(error.description, details: ["feature": .string(error.feature)])
        } catch let error as ModelError {
            throw QueryError.badRequest("the features cannot be scored: \(error)")
        }
        let scoredAt = ContinuousClock.now
        let writer = PredictionAnswer.Writer(scored, records: request.records, featureNames: endpoint.features.featureNames, multi: verb == "predict-multi")
        let written = writer.finish(preProcessing: prepared - started, prediction: scoredAt - prepared, postProcessing: ContinuousClock.now - scoredAt, apiContext: context)
        return Answer(status: 200, content: .prediction(written), generation: generation, request: routed.request)
    }

    /// The response headers every answer carries.
    public static let headers: [(String, String)] = [
        ("DSS-API-Version", apiVersion), ("DSS-Version", productVersion), ("Content-Type", "application/json"),
    ]

    private func parse(verb: String, body: [UInt8], query: [String: String]) throws -> QueryRequest {
        do {
            switch verb {
            case "predict-simple":
                return .prediction(PredictionRequest(simple: query))
            case "predict", "predict-multi":
                return .prediction(try PredictionRequest(body: body, multi: verb == "predict-multi"))
            case "run", "query", "lookup", "lookup-multi":
                let request = try JSONValue.parse(body)
                guard request.objectValue != nil else { throw QueryError.badRequest("the body must be a JSON object") }
                return .value(request)
            default:
                throw QueryError.notFound("unknown verb \"\(verb)\"")
            }
        } catch let error as JSONSyntaxError {
            throw QueryError.badRequest("the body is not valid JSON: \(error)")
        }
    }

    static func milliseconds(_ duration: Duration) -> Double {
        (Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15).rounded(toPlaces: 3)
    }
}

extension Double {
    func rounded(toPlaces places: Int) -> Double {
        let factor = Foundation.pow(10.0, Double(places))
        return (self * factor).rounded() / factor
    }
}
