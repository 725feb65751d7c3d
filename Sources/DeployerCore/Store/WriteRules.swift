import DeployerModel
import Foundation

/// The Kubernetes rules for writes, as pure functions over documents: what a create, an update,
/// a status write or a delete turns the stored object into. Stores only persist the result.
public struct WriteRules: Sendable {
    /// What an update or delete does to the stored object.
    public enum Change: Sendable {
        /// Nothing changed: no new resource version, no watch event.
        case unchanged
        /// Store this document.
        case store(JSONValue)
        /// Remove the object; the document is its last state.
        case remove(JSONValue)
    }

    let now: @Sendable () -> Date
    let makeUID: @Sendable () -> String

    public init(now: @escaping @Sendable () -> Date = Date.init, makeUID: @escaping @Sendable () -> String = { UUID().uuidString.lowercased() }) {
        self.now = now
        self.makeUID = makeUID
    }

    /// Kubernetes timestamps: RFC 3339, seconds, UTC.
    public static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false).timeZone(separator: .omitted))
            .replacingOccurrences(of: "+0000", with: "Z")
    }

    /// Prepares a new object: server-owned metadata set, status dropped, validated.
    public func create(_ incoming: JSONValue, kind: ResourceKind, namespace: String) throws -> JSONValue {
        var document = incoming
        document["apiVersion"] = .string(ResourceKind.apiVersion)
        document["kind"] = .string(kind.kind)
        var metadata = document["metadata"] ?? [:]
        if (metadata["name"]?.stringValue ?? "").isEmpty, let prefix = metadata["generateName"]?.stringValue, !prefix.isEmpty {
            metadata["name"] = .string(prefix + Self.randomSuffix())
        }
        metadata["namespace"] = .string(namespace)
        metadata["uid"] = .string(makeUID())
        metadata["creationTimestamp"] = .string(Self.timestamp(now()))
        metadata["generation"] = 1
        for serverOwned in ["resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"] {
            metadata[serverOwned] = nil
        }
        document["metadata"] = metadata
        if kind.hasStatus { document["status"] = nil }
        return try validated(foldStringData(document, kind: kind), kind: kind)
    }

    /// Applies an update of the main resource or of `/status` to `current`.
    public func update(current: JSONValue, incoming: JSONValue, kind: ResourceKind, subresource: Subresource) throws -> Change {
        let name = current["metadata"]?["name"]?.stringValue ?? ""
        let incomingVersion = incoming["metadata"]?["resourceVersion"]?.stringValue
        if let incomingVersion, !incomingVersion.isEmpty,
            incomingVersion != current["metadata"]?["resourceVersion"]?.stringValue
        {
            throw APIError.conflict(kind, name)
        }
        if let incomingName = incoming["metadata"]?["name"]?.stringValue, incomingName != name {
            throw APIError.badRequest("the name of the object (\(incomingName)) does not match the name on the URL (\(name))")
        }
        var document: JSONValue
        switch subresource {
        case .status:
            document = current
            document["status"] = incoming["status"]
        case .main:
            document = foldStringData(incoming, kind: kind)
            document["apiVersion"] = .string(ResourceKind.apiVersion)
            document["kind"] = .string(kind.kind)
            if kind.hasStatus { document["status"] = current["status"] }
            document["metadata"] = try mergeServerOwnedMetadata(current: current, incoming: incoming, kind: kind)
        }
        document = try validated(document, kind: kind)
        if Self.specChanged(from: current, to: document) {
            document["metadata"]?["generation"] = .int((current["metadata"]?["generation"]?.intValue ?? 0) + 1)
        }
        if document == current { return .unchanged }
        if document["metadata"]?["deletionTimestamp"] != nil, (document["metadata"]?["finalizers"]?.arrayValue ?? []).isEmpty {
            return .remove(document)
        }
        return .store(document)
    }

    /// Deletes `current`, or marks it for deletion while finalizers remain.
    public func delete(current: JSONValue, kind: ResourceKind, preconditions: DeletePreconditions) throws -> Change {
        let metadata = current["metadata"] ?? [:]
        let name = metadata["name"]?.stringValue ?? ""
        if let uid = preconditions.uid, uid != metadata["uid"]?.stringValue {
            throw APIError.conflict(
                kind, name, "Precondition failed: UID in precondition: \(uid), UID in object meta: \(metadata["uid"]?.stringValue ?? "")")
        }
        if let version = preconditions.resourceVersion, version != metadata["resourceVersion"]?.stringValue {
            throw APIError.conflict(
                kind, name,
                "Precondition failed: ResourceVersion in precondition: \(version), ResourceVersion in object meta: \(metadata["resourceVersion"]?.stringValue ?? "")"
            )
        }
        if (metadata["finalizers"]?.arrayValue ?? []).isEmpty { return .remove(current) }
        if metadata["deletionTimestamp"] != nil { return .unchanged }
        var document = current
        document["metadata"]?["deletionTimestamp"] = .string(Self.timestamp(now()))
        document["metadata"]?["deletionGracePeriodSeconds"] = 0
        document["metadata"]?["generation"] = .int((metadata["generation"]?.intValue ?? 0) + 1)
        return .store(document)
    }

    /// Keeps what the server owns, and refuses new finalizers on an object being deleted.
    private func mergeServerOwnedMetadata(current: JSONValue, incoming: JSONValue, kind: ResourceKind) throws -> JSONValue {
        let old = current["metadata"] ?? [:]
        var metadata = incoming["metadata"] ?? [:]
        for serverOwned in ["uid", "creationTimestamp", "generation", "deletionTimestamp", "deletionGracePeriodSeconds", "namespace"] {
            metadata[serverOwned] = old[serverOwned]
        }
        metadata["resourceVersion"] = old["resourceVersion"]
        metadata["selfLink"] = nil
        if metadata["managedFields"] == nil { metadata["managedFields"] = old["managedFields"] }
        if old["deletionTimestamp"] != nil {
            let before = Set((old["finalizers"]?.arrayValue ?? []).compactMap(\.stringValue))
            let added = (metadata["finalizers"]?.arrayValue ?? []).compactMap(\.stringValue).filter { !before.contains($0) }
            if !added.isEmpty {
                throw APIError.invalid(
                    kind, old["name"]?.stringValue ?? "",
                    [FieldError(.forbidden, field: "metadata.finalizers", detail: "no new finalizers can be added if the object is being deleted")])
            }
        }
        return metadata
    }

    private func validated(_ document: JSONValue, kind: ResourceKind) throws -> JSONValue {
        let validation = kind.validate(document, unknownFields: .strict)
        if !validation.errors.isEmpty {
            let name = document["metadata"]?["name"]?.stringValue ?? ""
            throw APIError.invalid(kind, name, validation.errors)
        }
        return validation.object
    }

    /// Secret `stringData` is write-only: its entries are stored base64-encoded in `data`.
    private func foldStringData(_ document: JSONValue, kind: ResourceKind) -> JSONValue {
        guard kind == .secret, let plain = document["stringData"]?.objectValue else { return document }
        var result = document
        var data = result["data"]?.objectValue ?? [:]
        for (key, value) in plain {
            data[key] = .string(Base64.encode(Array((value.stringValue ?? "").utf8)))
        }
        result["data"] = .object(data)
        result["stringData"] = nil
        return result
    }

    /// Whether anything but metadata and status differs (what bumps `generation`).
    static func specChanged(from old: JSONValue, to new: JSONValue) -> Bool {
        func body(_ document: JSONValue) -> [String: JSONValue] {
            var members = document.objectValue ?? [:]
            for ignored in ["apiVersion", "kind", "metadata", "status"] { members[ignored] = nil }
            return members
        }
        return body(old) != body(new)
    }

    private static func randomSuffix() -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return String((0..<5).map { _ in alphabet.randomElement()! })
    }
}
