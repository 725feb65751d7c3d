import Crypto
import DeployerModel
import Foundation

/// The ingest endpoint's logic, without HTTP: checks the key, the topic and routing key and every
/// event, then stores one envelope line per event in each destination that takes them — all or
/// nothing — and answers once they are on disk.
public struct EventIngest: Sendable {
    /// What to answer: a status and a JSON body.
    public struct Answer: Sendable {
        public let status: Int
        public let body: JSONValue
    }

    let config: EventServerConfig
    let appender: DurableAppender
    let metrics: EventServerMetrics
    let now: @Sendable () -> Date

    /// Routing keys of events that name none.
    public static let defaultRoutingKey = "default"

    /// Stores the events of one request. `key` is the caller's event key, `origin` its address.
    public func ingest(topic: String?, routingKey: String?, key: String?, ndjson: Bool, body: [UInt8], origin: String) async -> Answer {
        do {
            let topic = try Self.checkedName(topic, parameter: "topic")
            let routingKey = try Self.checkedName(routingKey ?? Self.defaultRoutingKey, parameter: "routingKey")
            let destinations = try writableDestinations(topic: topic, routingKey: routingKey, key: key)
            let events = try Self.events(in: body, ndjson: ndjson)
            let date = now()
            let suffix = Array(",\"origAddress\":".utf8) + JSONValue.string(origin).serialized()
                + Array(",\"serverTimestamp\":\"\(MillisecondTimestamp.format(date, zone: "+0000"))\"}\n".utf8)
            var records: [DurableAppender.Record] = []
            for destination in destinations {
                let folder = destination.folder(topic: topic, routingKey: routingKey, date: date)
                for event in events {
                    records.append(.init(folder: folder, line: Array("{\"clientEvent\":".utf8) + event.serialized(sortingKeys: false) + suffix))
                }
            }
            do {
                try await appender.append(records)
            } catch {
                throw Refusal(status: 500, reason: "storage", message: "the events could not be stored: \(error)")
            }
            return Answer(status: 200, body: ["stored": .int(Int64(events.count)), "destinations": .array(destinations.map { .string($0.name) })])
        } catch let refusal as Refusal {
            metrics.rejected(refusal.reason)
            return Answer(status: refusal.status, body: ["message": .string(refusal.message), "reason": .string(refusal.reason)])
        } catch {
            metrics.rejected("internal")
            return Answer(status: 500, body: ["message": .string("\(error)"), "reason": "internal"])
        }
    }

    /// The destinations matching topic and routing key that this key may write to.
    private func writableDestinations(topic: String, routingKey: String, key: String?) throws -> [Destination] {
        let keyed = !config.authKeys.isEmpty || config.destinations.contains { $0.requiredKeys != nil }
        if keyed {
            guard let key, !key.isEmpty else { throw Refusal(status: 401, reason: "unauthorized", message: "an event key is required (X-Event-Key)") }
            let known = config.authKeys + config.destinations.flatMap { $0.requiredKeys ?? [] }
            guard known.contains(where: { Self.sameKey($0, key) }) else {
                throw Refusal(status: 401, reason: "unauthorized", message: "the event key is not valid")
            }
        }
        let matching = config.destinations.filter { $0.accepts(topic: topic, routingKey: routingKey) }
        guard !matching.isEmpty else {
            throw Refusal(status: 404, reason: "unknown-topic", message: "no destination takes topic \"\(topic)\" with routing key \"\(routingKey)\"")
        }
        let allowed = matching.filter { destination in
            guard keyed, let key else { return true }
            let accepted = destination.requiredKeys ?? config.authKeys
            return accepted.contains { Self.sameKey($0, key) }
        }
        guard !allowed.isEmpty else {
            throw Refusal(status: 403, reason: "forbidden", message: "this key may not write topic \"\(topic)\" with routing key \"\(routingKey)\"")
        }
        return allowed
    }

    /// Compares keys through their digests, in time independent of where they differ.
    private static func sameKey(_ expected: String, _ given: String) -> Bool {
        let left = SHA256.hash(data: Data(expected.utf8))
        let right = SHA256.hash(data: Data(given.utf8))
        return zip(left, right).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// Topic and routing key become folder names: letters, digits, `.`, `_`, `-`.
    static func checkedName(_ value: String?, parameter: String) throws -> String {
        guard let value, !value.isEmpty else { throw Refusal(status: 400, reason: "bad-request", message: "\(parameter) is required") }
        let allowed = value.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: ".")
        }
        guard allowed, value.utf8.count <= 128, value != ".", value != ".." else {
            throw Refusal(status: 400, reason: "bad-request", message: "\(parameter) \"\(value)\": 1 to 128 letters, digits, '.', '_' or '-' are expected")
        }
        return value
    }

    /// One event (an object), a JSON array of events, or newline-delimited events.
    static func events(in body: [UInt8], ndjson: Bool) throws -> [JSONValue] {
        let events: [JSONValue]
        if ndjson {
            events = try body.split(separator: UInt8(ascii: "\n")).enumerated().compactMap { index, line in
                guard line.contains(where: { ![0x20, 0x09, 0x0D].contains($0) }) else { return nil }
                do {
                    return try JSONValue.parse(line)
                } catch {
                    throw Refusal(status: 400, reason: "malformed", message: "line \(index + 1): \(error)")
                }
            }
        } else {
            let document: JSONValue
            do {
                document = try JSONValue.parse(body)
            } catch {
                throw Refusal(status: 400, reason: "malformed", message: "the body is not valid JSON: \(error)")
            }
            events = document.arrayValue ?? [document]
        }
        guard !events.isEmpty else { throw Refusal(status: 400, reason: "bad-request", message: "the body holds no event") }
        for (index, event) in events.enumerated() where event.objectValue == nil {
            throw Refusal(status: 400, reason: "malformed", message: "event \(index + 1): a JSON object is expected")
        }
        return events
    }

    struct Refusal: Error {
        let status: Int
        let reason: String
        let message: String
    }
}
