import DeployerModel
import Foundation

/// The event server's configuration (`--config FILE`, YAML or JSON): auth keys accepted
/// everywhere, destinations, and the size at which a file is closed and the next one opened.
/// Without a file, every event goes to one destination under the root and no key is asked for.
public struct EventServerConfig: Sendable, Equatable {
    public var authKeys: [String]
    public var destinations: [Destination]
    public var maxFileBytes: Int

    public static let defaultMaxFileBytes = 64 * 1024 * 1024

    public init(authKeys: [String] = [], destinations: [Destination] = [Destination(name: "default")], maxFileBytes: Int = defaultMaxFileBytes) {
        self.authKeys = authKeys
        self.destinations = destinations
        self.maxFileBytes = maxFileBytes
    }

    /// Reads and checks a configuration file; errors name the file and the field.
    public static func load(path: String) throws -> EventServerConfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError("\(path): cannot read the file")
        }
        let documents = try JSONValue.parseYAMLDocuments(text)
        guard documents.count == 1, let document = documents.first, document.objectValue != nil else {
            throw ConfigError("\(path): expected one YAML or JSON object")
        }
        do {
            return try EventServerConfig(document)
        } catch let error as ConfigError {
            throw ConfigError("\(path): \(error.message)")
        }
    }

    init(_ document: JSONValue) throws {
        let known: Set = ["authKeys", "destinations", "maxFileBytes"]
        if let unknown = document.objectValue?.keys.first(where: { !known.contains($0) }) { throw ConfigError("unknown field \"\(unknown)\"") }
        authKeys = try Self.strings(document["authKeys"], at: "authKeys") ?? []
        maxFileBytes = Self.defaultMaxFileBytes
        if let size = document["maxFileBytes"] {
            guard case .int(let bytes) = size, bytes >= 1024 else { throw ConfigError("maxFileBytes: an integer of at least 1024 is expected") }
            maxFileBytes = Int(bytes)
        }
        guard let entries = document["destinations"] else {
            destinations = [Destination(name: "default")]
            return
        }
        guard let list = entries.arrayValue, !list.isEmpty else { throw ConfigError("destinations: a non-empty list is expected") }
        destinations = try list.enumerated().map { index, entry in try Destination(entry, at: "destinations[\(index)]") }
        var names = Set<String>()
        for destination in destinations where !names.insert(destination.name).inserted {
            throw ConfigError("destinations: the name \"\(destination.name)\" is used twice")
        }
    }

    static func strings(_ value: JSONValue?, at field: String) throws -> [String]? {
        guard let value else { return nil }
        guard let items = value.arrayValue else { throw ConfigError("\(field): a list of strings is expected") }
        return try items.enumerated().map { index, item in
            guard let text = item.stringValue, !text.isEmpty else { throw ConfigError("\(field)[\(index)]: a non-empty string is expected") }
            return text
        }
    }
}

/// A configuration the event server cannot use.
public struct ConfigError: Error, CustomStringConvertible {
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}
