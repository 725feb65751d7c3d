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
            let date = now()
            let lines = try Self.events(in: body, ndjson: ndjson, framing: EventEnvelope.framing(origin: origin, date: date))
            let records = destinations.map { DurableAppender.Record(folder: $0.folder(topic: topic, routingKey: routingKey, date: date), lines: lines) }
            do {
                try await appender.append(records)
            } catch {
                throw EventAccess.Refusal(status: 500, reason: "storage", message: "the events could not be stored: \(error)")
            }
            return Answer(status: 200, body: ["stored": .int(Int64(lines.count)), "destinations": .array(destinations.map { .string($0.name) })])
        } catch let refusal as EventAccess.Refusal {
            metrics.rejected(refusal.reason)
            return Answer(status: refusal.status, body: ["message": .string(refusal.message), "reason": .string(refusal.reason)])
        } catch {
            metrics.rejected("internal")
            return Answer(status: 500, body: ["message": .string("\(error)"), "reason": "internal"])
        }
    }

    /// One event (an object), a JSON array of events, or newline-delimited events, each checked
    /// and kept as the caller's bytes (made compact: one line each) inside `framing`.
    static func events(in body: [UInt8], ndjson: Bool, framing: CompactJSON.Framing) throws -> [[UInt8]] {
        var events: [[UInt8]] = []
        do {
            if ndjson {
                var start = body.startIndex
                var lineNumber = 0
                while start < body.endIndex {
                    let end = body[start...].firstIndex(of: UInt8(ascii: "\n")) ?? body.endIndex
                    lineNumber += 1
                    let line = body[start..<end]
                    start = end + 1
                    guard line.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) else { continue }
                    do {
                        events += try CompactJSON.objects(in: line, arrayAllowed: false, framing: framing)
                    } catch let failure as CompactJSON.Failure {
                        throw CompactJSON.Failure(description: "line \(lineNumber): \(failure.description)")
                    }
                }
            } else {
                events = try CompactJSON.objects(in: body[...], arrayAllowed: true, framing: framing)
            }
        } catch let failure as CompactJSON.Failure {
            throw EventAccess.Refusal(status: 400, reason: "malformed", message: failure.description)
        }
        guard !events.isEmpty else { throw EventAccess.Refusal(status: 400, reason: "bad-request", message: "the body holds no event") }
        return events
    }
}
