import Crypto
import DeployerModel
import Foundation

/// Who may write or read which events: keys (global and per destination, compared by digest),
/// destinations by topic and routing key, and the names that become folders.
struct EventAccess: Sendable {
    let config: EventServerConfig
    /// Whether any key is configured (a caller without one is then told a key is required).
    private let keyed: Bool
    /// Digests of every configured key, and of the keys each destination accepts (aligned with
    /// `config.destinations`), computed once.
    private let known: [[UInt8]]
    private let accepted: [[[UInt8]]]

    init(config: EventServerConfig) {
        self.config = config
        keyed = !config.authKeys.isEmpty || config.destinations.contains { $0.requiredKeys != nil }
        known = (config.authKeys + config.destinations.flatMap { $0.requiredKeys ?? [] }).map(Self.digest)
        accepted = config.destinations.map { ($0.requiredKeys ?? config.authKeys).map(Self.digest) }
    }

    /// The destinations matching topic and routing key that this key may write to (and read
    /// from). A destination accepts its `requiredKeys`, else the global keys; one with neither is
    /// open to every caller. A missing or unknown key is 401 before anything about topics is said.
    func destinations(topic: String, routingKey: String, key: String?) throws -> [Destination] {
        let given = key.flatMap { $0.isEmpty ? nil : Self.digest($0) }
        if let given, !known.contains(where: { Self.same($0, given) }) {
            throw Refusal(status: 401, reason: "unauthorized", message: "the event key is not valid")
        }
        let matching = config.destinations.indices.filter { config.destinations[$0].accepts(topic: topic, routingKey: routingKey) }
        let allowed = matching.filter { index in
            accepted[index].isEmpty || given.map { digest in accepted[index].contains { Self.same($0, digest) } } ?? false
        }
        if allowed.isEmpty, given == nil, keyed {
            throw Refusal(status: 401, reason: "unauthorized", message: "an event key is required (X-Event-Key)")
        }
        guard !matching.isEmpty else {
            throw Refusal(status: 404, reason: "unknown-topic", message: "no destination takes topic \"\(topic)\" with routing key \"\(routingKey)\"")
        }
        guard !allowed.isEmpty else {
            throw Refusal(status: 403, reason: "forbidden", message: "this key may not use topic \"\(topic)\" with routing key \"\(routingKey)\"")
        }
        return allowed.map { config.destinations[$0] }
    }

    private static func digest(_ key: String) -> [UInt8] { Array(SHA256.hash(data: Data(key.utf8))) }

    /// Compares digests in time independent of where they differ.
    private static func same(_ left: [UInt8], _ right: [UInt8]) -> Bool {
        zip(left, right).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// Topic and routing key become folder names: letters, digits, `.`, `_`, `-`.
    static func checkedName(_ value: String?, parameter: String) throws -> String {
        guard let value, !value.isEmpty else { throw Refusal(status: 400, reason: "bad-request", message: "\(parameter) is required") }
        guard NameRules.isEventName(value) else {
            throw Refusal(status: 400, reason: "bad-request", message: "\(parameter) \"\(value)\": \(NameRules.eventNameRule)")
        }
        return value
    }

    /// A request refused, with its status and the reason counted in the metrics.
    struct Refusal: Error {
        let status: Int
        let reason: String
        let message: String
    }
}
