import DeployerModel
import Foundation

/// Query log events (topic `apinode-query`), with the fields of the API node reference.
enum QueryEvent {
    /// RFC 3339 in UTC with milliseconds and a `Z` designator (a value type: no formatter is
    /// allocated per query).
    static let timestampStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    static func timestamp(_ date: Date) -> String { date.formatted(timestampStyle) }

    static func prediction(
        service: String, endpoint: String, verb: String, request: [UInt8], query: [String: String], answer: PublicAPI.Answer,
        elapsed: Duration
    ) -> JSONValue {
        let parsed = verb == "predict-simple" ? JSONValue.object(["features": .object(query.mapValues { .string($0) })]) : ((try? JSONValue.parse(request)) ?? [:])
        var event: JSONValue = [
            "msgType": "prediction-query", "requestId": .string(UUID().uuidString.lowercased()),
            "timestamp": .string(Self.timestamp(Date())),
            "service": .string(service), "endpoint": .string(endpoint), "status": .int(Int64(answer.status)),
            "timing": ["totalMs": .double(PublicAPI.milliseconds(elapsed))],
        ]
        if let generation = answer.generation { event["generation"] = .string(generation) }
        if verb == "predict-multi" {
            event["items"] = .array((parsed["items"]?.arrayValue ?? []).map { $0["features"] ?? [:] })
            event["results"] = answer.body["results"]
        } else {
            event["features"] = parsed["features"]
            event["result"] = answer.body["result"]
        }
        if answer.status >= 400 { event["error"] = answer.body["message"] }
        if let context = parsed["context"] { event["context"] = context }
        if let key = parsed["dispatch"]?["dispatchKey"] { event["dispatchKey"] = key }
        return event
    }
}
