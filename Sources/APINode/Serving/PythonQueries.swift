import DeployerModel

/// Queries to Python endpoints: `run` for functions (the body's keys are the keyword
/// arguments; the answer's `response` is the return value) and `predict`, `predict-multi`,
/// `predict-simple` for prediction classes (answered in the shape of native prediction).
enum PythonQueries {
    static func answer(
        _ pool: PythonWorkerPool, verb: String, request: JSONValue, generation: String, apiContext: JSONValue
    ) async throws -> PublicAPI.Answer {
        let started = ContinuousClock.now
        switch (pool.launch.kind, verb) {
        case (.function, "run"):
            guard request.objectValue != nil else { throw QueryError.badRequest("the body must be a JSON object of keyword arguments") }
            let value = try await call(pool, ["args": request])
            let body: JSONValue = ["response": value, "timing": ["execution": .double(PublicAPI.milliseconds(.now - started))], "apiContext": apiContext]
            return PublicAPI.Answer(status: 200, body: body, generation: generation, request: request)
        case (.prediction, "predict"), (.prediction, "predict-multi"), (.prediction, "predict-simple"):
            let records = try featureObjects(verb: verb, request: request)
            for (index, record) in records.enumerated() where record.objectValue == nil {
                throw QueryError.badRequest("\"\(verb == "predict-multi" ? "items[\(index)].features" : "features")\" must be an object of feature values")
            }
            let value = try await call(pool, ["records": .array(records)])
            guard let predictions = value.arrayValue, predictions.count == records.count else {
                throw QueryError(status: 500, errorType: "InvalidPrediction", message: "the prediction class gave no result per record")
            }
            let results = predictions.map(result)
            let timing: JSONValue = ["prediction": .double(PublicAPI.milliseconds(.now - started))]
            let body: JSONValue = verb == "predict-multi"
                ? ["results": .array(results), "timing": timing, "apiContext": apiContext]
                : ["result": results[0], "timing": timing, "apiContext": apiContext]
            return PublicAPI.Answer(status: 200, body: body, generation: generation, request: request)
        default:
            let verbs = pool.launch.kind == .function ? "run" : "predict, predict-multi and predict-simple"
            throw QueryError.notFound("unknown verb \"\(verb)\": this endpoint answers \(verbs)")
        }
    }

    /// The `features` objects of a prediction query, one per record.
    private static func featureObjects(verb: String, request: JSONValue) throws -> [JSONValue] {
        guard verb == "predict-multi" else { return [request["features"] ?? .null] }
        guard let items = request["items"]?.arrayValue, !items.isEmpty else {
            throw QueryError.badRequest("predict-multi needs a non-empty \"items\" array")
        }
        return items.map { $0["features"] ?? .null }
    }

    /// One record's result: what the class gave, marked `ignored` when it gave no prediction.
    private static func result(_ prediction: JSONValue) -> JSONValue {
        guard prediction["ignored"] != .bool(true) else { return ["ignored": true, "ignoreReason": "the model gave no prediction"] }
        var result = prediction
        result["ignored"] = false
        return result
    }

    private static func call(_ pool: PythonWorkerPool, _ request: JSONValue) async throws -> JSONValue {
        do {
            return try await pool.call(request)
        } catch PythonCallError.exception(let type, let message) {
            throw QueryError(status: 500, errorType: type, message: "\(type): \(message)", details: ["exceptionType": .string(type)])
        } catch PythonCallError.crashed(let reason) {
            throw QueryError(status: 500, errorType: "WorkerCrashed", message: reason)
        } catch PythonCallError.timedOut(let timeout) {
            throw QueryError(status: 504, errorType: "Timeout", message: "the endpoint ran longer than \(timeout); its worker was stopped")
        } catch let error as PythonLoadError {
            throw QueryError(status: 500, errorType: "WorkerStartFailed", message: error.message)
        }
    }
}
