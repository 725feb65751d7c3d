import DeployerModel

/// Queries to SQL query endpoints (`query`) and dataset lookups (`lookup`, `lookup-multi`).
enum DataQueries {
    /// Whether `endpointID` of `package` is a SQL query or lookup endpoint.
    static func serves(_ package: ValidatedPackage, _ endpointID: String) -> Bool {
        package.sqlQueries[endpointID] != nil || package.lookups[endpointID] != nil
    }

    /// The answer of a SQL query or lookup endpoint (one that `serves`).
    static func answer(
        _ package: ValidatedPackage, _ endpointID: String, verb: String, request: JSONValue, generation: String, apiContext: JSONValue
    ) async throws -> PublicAPI.Answer {
        let started = ContinuousClock.now
        var body: JSONValue
        if let endpoint = package.sqlQueries[endpointID] {
            guard verb == "query" else { throw QueryError.notFound("unknown verb \"\(verb)\": this SQL query endpoint answers query") }
            body = try await endpoint.run(request)
        } else if let endpoint = package.lookups[endpointID] {
            switch verb {
            case "lookup":
                body = ["results": .array(try endpoint.find([request], at: ["body"]))]
            case "lookup-multi":
                guard let items = request["items"]?.arrayValue, !items.isEmpty else {
                    throw QueryError.badRequest("lookup-multi needs a non-empty \"items\" array")
                }
                body = ["results": .array(try endpoint.find(items, at: items.indices.map { "items[\($0)]" }))]
            default:
                throw QueryError.notFound("unknown verb \"\(verb)\": this lookup endpoint answers lookup and lookup-multi")
            }
        } else {
            throw QueryError.notFound("endpoint \"\(endpointID)\" is neither a SQL query nor a lookup endpoint")
        }
        body["timing"] = ["execution": .double(PublicAPI.milliseconds(.now - started))]
        body["apiContext"] = apiContext
        return PublicAPI.Answer(status: 200, body: body, generation: generation, request: request)
    }
}
