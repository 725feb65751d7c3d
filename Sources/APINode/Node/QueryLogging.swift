import DeployerModel
import EventShipping
import Foundation

/// Where a service's query events go (ours; set by the deployer from the infrastructure's
/// `logging` block): `PUT /admin/api/services/{id}/logging`. A service without it logs to the
/// node's local query log file.
public struct QueryLogging: Codable, Sendable, Equatable {
    /// Every event goes to each of these event servers.
    public var eventServers: [EventTarget]
    public var topic: String
    /// The events' routing key: the deployment's name unless its infrastructure says otherwise.
    public var routingKey: String
    /// False: the service's queries are not logged at all.
    public var logQueries: Bool

    public static let defaultTopic = "apinode-query"

    public init(eventServers: [EventTarget], topic: String = defaultTopic, routingKey: String, logQueries: Bool = true) {
        self.eventServers = eventServers
        self.topic = topic
        self.routingKey = routingKey
        self.logQueries = logQueries
    }

    enum CodingKeys: String, CodingKey { case eventServers, topic, routingKey, logQueries }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        eventServers = try container.decodeIfPresent([EventTarget].self, forKey: .eventServers) ?? []
        topic = try container.decodeIfPresent(String.self, forKey: .topic) ?? Self.defaultTopic
        routingKey = try container.decode(String.self, forKey: .routingKey)
        logQueries = try container.decodeIfPresent(Bool.self, forKey: .logQueries) ?? true
    }

    /// Checks every field; the error names the first bad one.
    func validate() throws {
        for (index, server) in eventServers.enumerated() {
            guard let url = URL(string: server.url), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
                throw NodeError.invalid("eventServers[\(index)].url \"\(server.url)\" is not an http(s) URL")
            }
        }
        for (field, value) in [("topic", topic), ("routingKey", routingKey)] where !NameRules.isEventName(value) {
            throw NodeError.invalid("\(field) \"\(value)\": \(NameRules.eventNameRule)")
        }
    }

    /// What the admin API shows: keys are never returned, only whether one is set.
    var redacted: JSONValue {
        [
            "eventServers": .array(eventServers.map { ["url": .string($0.url), "authKeySet": .bool($0.authKey != nil)] }),
            "topic": .string(topic), "routingKey": .string(routingKey), "logQueries": .bool(logQueries),
        ]
    }
}
