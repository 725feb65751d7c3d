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
        var parts = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
        parts.calendar = nil
        func padded(_ value: Int?, _ width: Int) -> String {
            let text = String(value ?? 0)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        let path = pathPattern
            .replacingOccurrences(of: "<topic>", with: topic)
            .replacingOccurrences(of: "<routing-key>", with: routingKey)
            .replacingOccurrences(of: "YYYY", with: padded(parts.year, 4))
            .replacingOccurrences(of: "MM", with: padded(parts.month, 2))
            .replacingOccurrences(of: "DD", with: padded(parts.day, 2))
            .replacingOccurrences(of: "HH", with: padded(parts.hour, 2))
        let joined = folder.isEmpty ? path : folder + "/" + path
        return joined.split(separator: "/").joined(separator: "/")
    }
}
