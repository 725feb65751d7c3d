import DeployerModel
import Foundation

/// Query log events (topic `apinode-query`), with the fields of the API node reference.
enum QueryEvent {
    static func prediction(
        service: String, endpoint: String, verb: String, answer: PublicAPI.Answer, elapsed: Duration, requestID: String, date: Date = Date()
    ) -> JSONValue {
        let request = answer.request ?? [:]
        var event: JSONValue = [
            "msgType": "prediction-query", "requestId": .string(requestID),
            "timestamp": .string(timestamp(date)),
            "service": .string(service), "endpoint": .string(endpoint), "status": .int(Int64(answer.status)),
            "timing": ["totalMs": .double(PublicAPI.milliseconds(elapsed))],
        ]
        if let generation = answer.generation { event["generation"] = .string(generation) }
        if verb == "predict-multi" {
            event["items"] = .array((request["items"]?.arrayValue ?? []).map { $0["features"] ?? [:] })
            event["results"] = answer.body["results"]
        } else {
            event["features"] = request["features"]
            event["result"] = answer.body["result"]
        }
        if answer.status >= 400 { event["error"] = answer.body["message"] }
        if let context = request["context"] { event["context"] = context }
        if let key = request["dispatch"]?["dispatchKey"] { event["dispatchKey"] = key }
        return event
    }

    /// The caller's `X-Request-ID` when it is usable (1 to 128 visible ASCII characters),
    /// else a new random one.
    static func requestID(given: String?, using generator: inout some RandomNumberGenerator) -> String {
        if let given, (1...128).contains(given.utf8.count), given.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) { return given }
        return requestID(using: &generator)
    }

    /// A random (version 4) UUID in its lowercase text form.
    static func requestID(using generator: inout some RandomNumberGenerator) -> String {
        var bytes = withUnsafeBytes(of: (generator.next() as UInt64, generator.next() as UInt64)) { Array($0) }
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

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// RFC 3339 in UTC with milliseconds and a `Z` designator, e.g. `2026-11-28T17:05:09.042Z`.
    static func timestamp(_ date: Date) -> String { MillisecondTimestamp.format(date, zone: "Z") }
}
