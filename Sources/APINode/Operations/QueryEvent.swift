import DeployerModel
import Foundation

/// One query's log event (topic `apinode-query`, fields of the API node reference): captured on
/// the query path from values the query made anyway, and written as one JSON line by the query
/// log's writer, off the query path.
public struct QueryEvent: Sendable {
    let requestID: String
    /// RFC 3339, UTC, milliseconds: formatted once, for the event and the local file's day.
    let timestamp: String
    let service: String
    let endpoint: String
    let verb: String
    let answer: PublicAPI.Answer
    let elapsed: Duration
    /// The API key's id or the JWT's subject that authenticated the caller (never a key).
    let authKeyID: String?

    init(
        requestID: String, date: Date = Date(), service: String, endpoint: String, verb: String, answer: PublicAPI.Answer, elapsed: Duration,
        authKeyID: String? = nil
    ) {
        self.authKeyID = authKeyID
        self.requestID = requestID
        timestamp = Self.timestamp(date)
        self.service = service
        self.endpoint = endpoint
        self.verb = verb
        self.answer = answer
        self.elapsed = elapsed
    }

    /// `YYYY-MM-DD` of the timestamp.
    var day: String { String(decoding: timestamp.utf8.prefix(10), as: UTF8.self) }

    /// The event as one JSON object (no newline).
    var line: [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(512)
        write(into: &output)
        return output
    }

    private func write(into output: inout [UInt8]) {
        output += Self.openings[Self.messageType(verb)] ?? []
        JSONValue.string(requestID).write(into: &output, sortingKeys: false)
        field("timestamp", .string(timestamp), into: &output)
        field("service", .string(service), into: &output)
        field("endpoint", .string(endpoint), into: &output)
        output += Self.statusKey
        JSONValue.writeInteger(Int64(answer.status), into: &output)
        output += Self.timingKey
        Self.writeMilliseconds(elapsed, into: &output)
        output.append(UInt8(ascii: "}"))
        if let generation = answer.generation { field("generation", .string(generation), into: &output) }
        if let authKeyID { field("authKeyId", .string(authKeyID), into: &output) }
        switch answer.request {
        case .prediction(let request):
            writePrediction(request, into: &output)
        case .value(let request):
            writeQuery(request, into: &output)
        case nil:
            break
        }
        if answer.status >= 400, let message = answer.body["message"] { field("error", message, into: &output) }
        if let context = answer.request?[member: "context"] { field("context", context, into: &output) }
        if let key = answer.request?[member: "dispatch"]?["dispatchKey"] { field("dispatchKey", key, into: &output) }
        output.append(UInt8(ascii: "}"))
    }

    /// A prediction query's features and results, copied from the request and answer as written.
    private func writePrediction(_ request: PredictionRequest, into output: inout [UInt8]) {
        let multi = verb == "predict-multi"
        if let features = request.loggedFeatures {
            output += multi ? Self.itemsKey : Self.featuresKey
            output += features
        }
        // A refused query has no results; Python classes' answers come with the request as a value.
        if case .prediction(let written) = answer.content {
            output += multi ? Self.resultsKey : Self.resultKey
            output += written.bytes[written.results]
        }
    }

    /// Any other query's arguments and answer, from their values.
    private func writeQuery(_ request: JSONValue, into output: inout [UInt8]) {
        let body = answer.body
        if verb == "run" {
            field("args", request, into: &output)
            if let response = body["response"] { field("response", response, into: &output) }
        } else if verb == "query" {
            field("parameters", request, into: &output)
            if let rows = body["rows"]?.arrayValue { field("rowCount", .int(Int64(rows.count)), into: &output) }
            if let updated = body["updatedRows"] { field("updatedRows", updated, into: &output) }
        } else if verb.hasPrefix("lookup") {
            let items = verb == "lookup" ? [request] : request["items"]?.arrayValue ?? []
            field("items", .array(items.map { $0["data"] ?? .null }), into: &output)
            if let results = body["results"]?.arrayValue { field("found", .array(results.map { $0["found"] ?? .null }), into: &output) }
        } else if verb == "predict-multi" {
            field("items", .array((request["items"]?.arrayValue ?? []).map { $0["features"] ?? [:] }), into: &output)
            if let results = body["results"] { field("results", results, into: &output) }
        } else {
            if let features = request["features"] { field("features", features, into: &output) }
            if let result = body["result"] { field("result", result, into: &output) }
        }
    }

    private func field(_ name: StaticString, _ value: JSONValue, into output: inout [UInt8]) {
        output.append(UInt8(ascii: ","))
        output.append(UInt8(ascii: "\""))
        output += UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)
        output.append(UInt8(ascii: "\""))
        output.append(UInt8(ascii: ":"))
        value.write(into: &output, sortingKeys: false)
    }

    /// `{"msgType":"…","requestId":` of each message type, made once.
    private static let openings = Dictionary(uniqueKeysWithValues: ["prediction-query", "function-query", "sql-query", "dataset-lookup-query"].map {
        ($0, Array(#"{"msgType":"\#($0)","requestId":"#.utf8))
    })

    /// The reference's `msgType` of a query verb.
    static func messageType(_ verb: String) -> String {
        switch verb {
        case "run": "function-query"
        case "query": "sql-query"
        case "lookup", "lookup-multi": "dataset-lookup-query"
        default: "prediction-query"
        }
    }
    private static let statusKey = Array(#","status":"#.utf8)
    private static let timingKey = Array(#","timing":{"totalMs":"#.utf8)
    private static let featuresKey = Array(#","features":"#.utf8)
    private static let itemsKey = Array(#","items":"#.utf8)
    private static let resultKey = Array(#","result":"#.utf8)
    private static let resultsKey = Array(#","results":"#.utf8)

    /// Milliseconds with three decimals, from whole microseconds (no floating point).
    static func writeMilliseconds(_ duration: Duration, into output: inout [UInt8]) {
        let microseconds = max(0, duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000)
        JSONValue.writeInteger(microseconds / 1000, into: &output)
        let fraction = microseconds % 1000
        output.append(UInt8(ascii: "."))
        output.append(UInt8(ascii: "0") + UInt8(fraction / 100))
        output.append(UInt8(ascii: "0") + UInt8(fraction / 10 % 10))
        output.append(UInt8(ascii: "0") + UInt8(fraction % 10))
    }

    /// The caller's `X-Request-ID` when it is usable (1 to 128 visible ASCII characters),
    /// else a new random one.
    static func requestID(given: String?, using generator: inout some RandomNumberGenerator) -> String {
        if let given, (1...128).contains(given.utf8.count), given.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) { return given }
        return requestID(using: &generator)
    }

    /// A random (version 4) UUID in its lowercase text form.
    static func requestID(using generator: inout some RandomNumberGenerator) -> String {
        var random = (generator.next() as UInt64, generator.next() as UInt64)
        return withUnsafeMutableBytes(of: &random) { bytes in
            bytes[6] = bytes[6] & 0x0F | 0x40  // version 4
            bytes[8] = bytes[8] & 0x3F | 0x80  // RFC 4122 variant
            return String(unsafeUninitializedCapacity: 36) { text in
                var position = 0
                for (index, byte) in bytes.enumerated() {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        text[position] = UInt8(ascii: "-")
                        position += 1
                    }
                    text[position] = hexDigits[Int(byte >> 4)]
                    text[position + 1] = hexDigits[Int(byte & 0xF)]
                    position += 2
                }
                return position
            }
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// RFC 3339 in UTC with milliseconds and a `Z` designator, e.g. `2026-11-28T17:05:09.042Z`.
    static func timestamp(_ date: Date) -> String { MillisecondTimestamp.format(date, zone: "Z") }
}
