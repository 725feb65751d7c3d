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

    /// An answer: status, JSON body, the generation that served it, and the parsed request (for
    /// logs and metrics).
    public struct Answer: Sendable {
        public let status: Int
        public let body: JSONValue
        public let generation: String?
        public let request: JSONValue?

        public init(status: Int, body: JSONValue, generation: String?, request: JSONValue? = nil) {
            self.status = status
            self.body = body
            self.generation = generation
            self.request = request
        }
    }

    public init() {}

    /// Handles one query against a snapshot of what the node serves.
    /// `forcedGeneration` (the `X-Forced-Generation` header) overrides the body's `dispatch`.
    public func handle(
        _ table: ServingTable, service serviceID: String, endpoint endpointID: String, verb: String, body: [UInt8],
        query: [String: String], forcedGeneration: String? = nil, using generator: inout some RandomNumberGenerator
    ) async -> Answer {
        var request: JSONValue?
        do {
            let routed = try route(table, serviceID, endpointID, verb, body, query, forcedGeneration, &generator, parsed: &request)
            return try await answer(routed, table, serviceID, endpointID, verb)
        } catch let error as QueryError {
            return Answer(status: error.status, body: error.body, generation: nil, request: request)
        } catch {
            return Answer(
                status: 500, body: QueryError(status: 500, errorType: "InternalError", message: "\(error)").body, generation: nil, request: request)
        }
    }

    /// A query routed to one generation's package.
    struct Routed {
        let request: JSONValue
        let generation: String
        let package: ValidatedPackage
    }

    /// Parses the request and picks the generation that serves it.
    private func route(
        _ table: ServingTable, _ serviceID: String, _ endpointID: String, _ verb: String, _ body: [UInt8],
        _ query: [String: String], _ forcedGeneration: String?, _ generator: inout some RandomNumberGenerator, parsed: inout JSONValue?
    ) throws -> Routed {
        guard let service = table.services[serviceID] else { throw QueryError.notFound("unknown service \"\(serviceID)\"") }
        guard service.enabled else { throw QueryError.unavailable("service \"\(serviceID)\" is disabled") }
        let request = try parse(verb: verb, body: body, query: query)
        parsed = request
        // The body of `run` and `query` holds only the caller's arguments, never `dispatch`.
        let dispatch = verb == "run" || verb == "query" ? nil : request["dispatch"]
        let generation: String
        do {
            generation = try service.dispatcher.choose(
                forcedGeneration: forcedGeneration ?? dispatch?["forcedGeneration"]?.stringValue,
                dispatchKey: dispatch?["dispatchKey"]?.stringValue, using: &generator)
        } catch let error as DispatchError {
            throw error == .noActiveGeneration ? QueryError.unavailable("\(error)") : QueryError.badRequest("\(error)")
        }
        guard let package = service.generations[generation] else { throw QueryError.unavailable("generation \"\(generation)\" is not loaded") }
        return Routed(request: request, generation: generation, package: package)
    }

    private func answer(_ routed: Routed, _ table: ServingTable, _ serviceID: String, _ endpointID: String, _ verb: String) async throws -> Answer {
        let (request, generation) = (routed.request, routed.generation)
        let context: JSONValue = ["serviceId": .string(serviceID), "endpointId": .string(endpointID), "serviceGeneration": .string(generation)]
        if let pool = routed.package.python[endpointID] {
            return try await PythonQueries.answer(pool, verb: verb, request: request, generation: generation, apiContext: context)
        }
        if let answer = try await DataQueries.answer(routed.package, endpointID, verb: verb, request: request, generation: generation, apiContext: context) {
            return answer
        }
        guard verb != "run" else { throw QueryError.notFound("unknown verb \"run\" for a prediction endpoint") }
        guard let endpoint = routed.package.models[endpointID] else {
            throw QueryError.notFound("service \"\(serviceID)\" has no endpoint \"\(endpointID)\"")
        }
        let started = ContinuousClock.now
        let rows = try featureRows(verb: verb, request: request)
        let prepared = ContinuousClock.now
        let outputs: [String: Tensor]
        do {
            outputs = try endpoint.model.evaluate(try endpoint.features.inputs(for: rows))
        } catch let error as FeatureError {
            throw QueryError.badRequest(error.description, details: ["feature": .string(error.feature)])
        } catch let error as ModelError {
            throw QueryError.badRequest("the features cannot be scored: \(error)")
        }
        let scored = ContinuousClock.now
        let predictions = try endpoint.reader.predictions(from: outputs, rows: rows.count)
        let results = zip(rows, predictions).map { Self.result($1, features: $0, featureNames: endpoint.features.featureNames) }
        let timing: JSONValue = [
            "preProcessing": .double(Self.milliseconds(prepared - started)),
            "prediction": .double(Self.milliseconds(scored - prepared)),
            "postProcessing": .double(Self.milliseconds(ContinuousClock.now - scored)),
        ]
        let body: JSONValue = verb == "predict-multi"
            ? ["results": .array(results), "timing": timing, "apiContext": context]
            : ["result": results[0], "timing": timing, "apiContext": context]
        return Answer(status: 200, body: body, generation: generation, request: request)
    }

    /// The response headers every answer carries.
    public static let headers: [(String, String)] = [
        ("DSS-API-Version", apiVersion), ("DSS-Version", productVersion), ("Content-Type", "application/json"),
    ]

    private func parse(verb: String, body: [UInt8], query: [String: String]) throws -> JSONValue {
        switch verb {
        case "predict-simple":
            return ["features": .object(query.mapValues { .string($0) })]
        case "predict", "predict-multi", "run", "query", "lookup", "lookup-multi":
            let request: JSONValue
            do {
                request = try JSONValue.parse(body)
            } catch {
                throw QueryError.badRequest("the body is not valid JSON: \(error)")
            }
            guard request.objectValue != nil else { throw QueryError.badRequest("the body must be a JSON object") }
            return request
        default:
            throw QueryError.notFound("unknown verb \"\(verb)\"")
        }
    }

    /// The `features` objects of a prediction query, one per record.
    static func featureObjects(verb: String, request: JSONValue) throws -> [JSONValue] {
        guard verb == "predict-multi" else { return [request["features"] ?? .null] }
        guard let items = request["items"]?.arrayValue, !items.isEmpty else {
            throw QueryError.badRequest("predict-multi needs a non-empty \"items\" array")
        }
        return items.map { $0["features"] ?? .null }
    }

    private func featureRows(verb: String, request: JSONValue) throws -> [[String: FeatureValue]] {
        try Self.featureObjects(verb: verb, request: request).enumerated().map { index, object in
            try Self.features(object, at: verb == "predict-multi" ? "items[\(index)].features" : "features")
        }
    }

    static func features(_ value: JSONValue?, at path: String) throws -> [String: FeatureValue] {
        guard let members = value?.objectValue else { throw QueryError.badRequest("\"\(path)\" must be an object of feature values") }
        var features: [String: FeatureValue] = [:]
        features.reserveCapacity(members.count)
        for (name, value) in members {
            switch value {
            case .int(let number): features[name] = .number(Double(number))
            case .double(let number): features[name] = .number(number)
            case .string(let text): features[name] = .string(text)
            case .bool(let flag): features[name] = .number(flag ? 1 : 0)
            case .null: features[name] = .missing
            case .array, .object:
                throw QueryError.badRequest("feature \"\(name)\": a number, a string or null is expected", details: ["feature": .string(name)])
            }
        }
        return features
    }

    /// The `result` object; a record whose score is not a number is `ignored` with the reason.
    static func result(_ prediction: Prediction, features: [String: FeatureValue], featureNames: [String]) -> JSONValue {
        if (prediction.probabilities ?? []).contains(where: \.isNaN) || prediction.prediction.numberValue?.isNaN == true {
            let missing = featureNames.filter { (features[$0] ?? .missing) == .missing }
            let reason = missing.isEmpty ? "the model gave no score" : "missing values without imputation: " + missing.joined(separator: ", ")
            return ["ignored": true, "ignoreReason": .string(reason)]
        }
        var result: JSONValue = ["ignored": false]
        switch prediction.prediction {
        case .label(let label): result["prediction"] = .string(label)
        case .number(let number): result["prediction"] = .double(number)
        }
        if let names = prediction.classNames, let probabilities = prediction.probabilities {
            result["probas"] = .object(Dictionary(zip(names, probabilities.map { JSONValue.double($0) }), uniquingKeysWith: { first, _ in first }))
        }
        return result
    }

    static func milliseconds(_ duration: Duration) -> Double {
        (Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15).rounded(toPlaces: 3)
    }
}

extension Prediction.Value {
    var numberValue: Double? {
        if case .number(let number) = self { return number }
        return nil
    }
}

extension Double {
    func rounded(toPlaces places: Int) -> Double {
        let factor = Foundation.pow(10.0, Double(places))
        return (self * factor).rounded() / factor
    }
}
