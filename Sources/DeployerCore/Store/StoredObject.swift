import DeployerModel

/// Identifies one object: kind, namespace and name.
public struct ObjectKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let kind: ResourceKind
    public let namespace: String
    public let name: String

    public init(_ kind: ResourceKind, namespace: String, name: String) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
    }

    public static func < (lhs: ObjectKey, rhs: ObjectKey) -> Bool {
        (lhs.namespace, lhs.name) < (rhs.namespace, rhs.name)
    }

    public var description: String { "\(kind.plural)/\(namespace)/\(name)" }
}

/// An object as stored: its serialized JSON plus the fields lists and selectors need.
///
/// Only bytes are kept in memory; the JSON tree is rebuilt on demand for writes, which keeps
/// a store of 10,000 objects small and lists cheap (responses concatenate stored bytes).
public struct StoredObject: Sendable {
    public let key: ObjectKey
    public let resourceVersion: UInt64
    public let json: [UInt8]
    public let labels: [String: String]

    /// Builds a stored object from a complete document whose metadata carries `resourceVersion`.
    public init(kind: ResourceKind, document: JSONValue, resourceVersion: UInt64) {
        let metadata = document["metadata"]
        key = ObjectKey(
            kind, namespace: metadata?["namespace"]?.stringValue ?? "", name: metadata?["name"]?.stringValue ?? "")
        self.resourceVersion = resourceVersion
        json = document.serialized()
        labels = (metadata?["labels"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
    }

    /// Rebuilds a stored object from bytes read back from disk.
    public init(kind: ResourceKind, json: [UInt8], resourceVersion: UInt64) throws {
        self.init(kind: kind, document: try JSONValue.parse(json), resourceVersion: resourceVersion)
    }

    /// The parsed document.
    public var document: JSONValue {
        // Stored bytes were produced by our own serializer, so parsing cannot fail.
        (try? JSONValue.parse(json)) ?? .null
    }
}

/// The kinds of change a watch reports.
public enum WatchEventType: String, Sendable {
    case added = "ADDED"
    case modified = "MODIFIED"
    case deleted = "DELETED"
}

/// One change, as committed: the object after it (for DELETED, its last state).
public struct StoreEvent: Sendable {
    public let type: WatchEventType
    public let object: StoredObject

    public init(type: WatchEventType, object: StoredObject) {
        self.type = type
        self.object = object
    }

    public var resourceVersion: UInt64 { object.resourceVersion }
}
