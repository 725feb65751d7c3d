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

    let access: EventAccess
    let appender: DurableAppender
    let metrics: EventServerMetrics
    let now: @Sendable () -> Date

    /// Routing keys of events that name none.
    public static let defaultRoutingKey = "default"

    /// Stores the events of one request. `key` is the caller's event key, `origin` its address.
    public func ingest(topic: String?, routingKey: String?, key: String?, ndjson: Bool, body: [UInt8], origin: String) async -> Answer {
        do {
            let topic = try EventAccess.checkedName(topic, parameter: "topic")
            let routingKey = try EventAccess.checkedName(routingKey ?? Self.defaultRoutingKey, parameter: "routingKey")
            let destinations = try access.destinations(topic: topic, routingKey: routingKey, key: key)
            let events = try Self.events(in: body, ndjson: ndjson)
            let date = now()
            let lines = EventEnvelope.lines(events, origin: origin, date: date)
            let records = destinations.flatMap { destination in
                let folder = destination.folder(topic: topic, routingKey: routingKey, date: date)
                return lines.map { DurableAppender.Record(folder: folder, line: $0) }
            }
            do {
                try await appender.append(records)
            } catch {
                throw EventAccess.Refusal(status: 500, reason: "storage", message: "the events could not be stored: \(error)")
            }
            return Answer(status: 200, body: ["stored": .int(Int64(events.count)), "destinations": .array(destinations.map { .string($0.name) })])
        } catch let refusal as EventAccess.Refusal {
            metrics.rejected(refusal.reason)
            return Answer(status: refusal.status, body: ["message": .string(refusal.message), "reason": .string(refusal.reason)])
        } catch {
            metrics.rejected("internal")
            return Answer(status: 500, body: ["message": .string("\(error)"), "reason": "internal"])
        }
    }

    /// One event (an object), a JSON array of events, or newline-delimited events.
    static func events(in body: [UInt8], ndjson: Bool) throws -> [JSONValue] {
        let events: [JSONValue]
        if ndjson {
            var parsed: [JSONValue] = []
            var start = body.startIndex
            var lineNumber = 0
            while start < body.endIndex {
                let end = body[start...].firstIndex(of: UInt8(ascii: "\n")) ?? body.endIndex
                lineNumber += 1
                let line = body[start..<end]
                start = end + 1
                guard line.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) else { continue }
                do {
                    parsed.append(try JSONValue.parse(line))
                } catch {
                    throw EventAccess.Refusal(status: 400, reason: "malformed", message: "line \(lineNumber): \(error)")
                }
            }
            events = parsed
        } else {
            let document: JSONValue
            do {
                document = try JSONValue.parse(body)
            } catch {
                throw EventAccess.Refusal(status: 400, reason: "malformed", message: "the body is not valid JSON: \(error)")
            }
            events = document.arrayValue ?? [document]
        }
        guard !events.isEmpty else { throw EventAccess.Refusal(status: 400, reason: "bad-request", message: "the body holds no event") }
        for (index, event) in events.enumerated() where event.objectValue == nil {
            throw EventAccess.Refusal(status: 400, reason: "malformed", message: "event \(index + 1): a JSON object is expected")
        }
        return events
    }
}
