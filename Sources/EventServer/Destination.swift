import DeployerModel
import Foundation

/// Where matching events are stored: a topic filter, a routing-key filter, a folder under the
/// root with a path pattern, and optionally the only keys allowed to write there.
public struct Destination: Sendable, Equatable {
    public var name: String
    /// nil: every topic.
    public var topics: [String]?
    /// nil: every routing key.
    public var routingKeys: [String]?
    /// Relative to the server's root.
    public var folder: String
    /// Tokens: `<topic>`, `<routing-key>`, `YYYY`, `MM`, `DD`, `HH`.
    public var pathPattern: String
    /// nil: the global keys.
    public var requiredKeys: [String]?

    public static let defaultPathPattern = "<topic>/<routing-key>/YYYY/MM/DD/HH/"

    public init(
        name: String, topics: [String]? = nil, routingKeys: [String]? = nil, folder: String = "", pathPattern: String = defaultPathPattern,
        requiredKeys: [String]? = nil
    ) {
        self.name = name
        self.topics = topics
        self.routingKeys = routingKeys
        self.folder = folder
        self.pathPattern = pathPattern
        self.requiredKeys = requiredKeys
    }

    init(_ entry: JSONValue, at field: String) throws {
        let known: Set = ["name", "topics", "routingKeys", "folder", "pathPattern", "requiredKeys"]
        guard let members = entry.objectValue else { throw ConfigError("\(field): an object is expected") }
        if let unknown = members.keys.first(where: { !known.contains($0) }) { throw ConfigError("\(field): unknown field \"\(unknown)\"") }
        guard let name = entry["name"]?.stringValue, !name.isEmpty else { throw ConfigError("\(field).name: a non-empty string is required") }
        self.name = name
        topics = try EventServerConfig.strings(entry["topics"], at: "\(field).topics")
        routingKeys = try EventServerConfig.strings(entry["routingKeys"], at: "\(field).routingKeys")
        requiredKeys = try EventServerConfig.strings(entry["requiredKeys"], at: "\(field).requiredKeys")
        folder = entry["folder"]?.stringValue ?? ""
        pathPattern = entry["pathPattern"]?.stringValue ?? Self.defaultPathPattern
        if folder.hasPrefix("/") || folder.split(separator: "/").contains("..") {
            throw ConfigError("\(field).folder: a relative path inside the root is expected")
        }
        if pathPattern.hasPrefix("/") || pathPattern.split(separator: "/").contains("..") {
            throw ConfigError("\(field).pathPattern: a relative path is expected")
        }
    }

    func accepts(topic: String, routingKey: String) -> Bool {
        (topics?.contains(topic) ?? true) && (routingKeys?.contains(routingKey) ?? true)
    }

    /// The folder, relative to the root, of events of this topic and routing key stored at `date`.
    func folder(topic: String, routingKey: String, date: Date) -> String {
        // `2026-11-28T15:05:09.250Z`: year, month, day and hour at fixed places (UTC).
        let stamp = Array(MillisecondTimestamp.format(date, zone: "Z").utf8)
        func part(_ range: Range<Int>) -> String { String(decoding: stamp[range], as: UTF8.self) }
        // Date tokens first: a topic or routing key may itself contain `MM` or `HH`.
        let path = pathPattern
            .replacingOccurrences(of: "YYYY", with: part(0..<4))
            .replacingOccurrences(of: "MM", with: part(5..<7))
            .replacingOccurrences(of: "DD", with: part(8..<10))
            .replacingOccurrences(of: "HH", with: part(11..<13))
            .replacingOccurrences(of: "<topic>", with: topic)
            .replacingOccurrences(of: "<routing-key>", with: routingKey)
        let joined = folder.isEmpty ? path : folder + "/" + path
        return joined.split(separator: "/").joined(separator: "/")
    }
}
