/// Server-side apply (`application/apply-patch+yaml`): the applied configuration is merged into
/// the live object, and fields this manager applied before but left out now are removed.
/// Ownership is recorded in `metadata.managedFields` in the `FieldsV1` format.
///
/// Simplification (documented in docs/api.md): lists are atomic and conflicts between managers
/// are not detected; the last applier wins, as with `force=true`.
public enum ServerSideApply {
    public static func apply(applied: JSONValue, to live: JSONValue?, manager: String, time: String) -> JSONValue {
        var result = live ?? [:]
        let fields = managedPaths(of: applied)
        let entries = result["metadata"]?["managedFields"]?.arrayValue ?? []
        let previousEntry = entries.first { $0["manager"]?.stringValue == manager && $0["operation"]?.stringValue == "Apply" }
        let previous = previousEntry.map { paths(fromFieldsV1: $0["fieldsV1"] ?? [:]) } ?? []
        for stale in previous.subtracting(fields) { result = removing(stale[...], from: result) }
        result = merge(applied, into: result)
        var others = entries.filter { !($0["manager"]?.stringValue == manager && $0["operation"]?.stringValue == "Apply") }
        if let previousEntry, previous == fields {
            others.append(previousEntry)
        } else {
            others.append([
                "manager": .string(manager), "operation": "Apply", "apiVersion": applied["apiVersion"] ?? live?["apiVersion"] ?? .string(ResourceKind.apiVersion),
                "time": .string(time), "fieldsType": "FieldsV1", "fieldsV1": fieldsV1(fields),
            ])
        }
        result["metadata"]?["managedFields"] = .array(others.sorted { ($0["manager"]?.stringValue ?? "") < ($1["manager"]?.stringValue ?? "") })
        return result
    }

    /// Leaf paths of an applied configuration, excluding identity fields.
    static func managedPaths(of applied: JSONValue) -> Set<[String]> {
        var result = Set<[String]>()
        func walk(_ value: JSONValue, _ path: [String]) {
            if case .object(let members) = value, !members.isEmpty {
                for (key, child) in members { walk(child, path + [key]) }
            } else {
                result.insert(path)
            }
        }
        for (key, value) in applied.objectValue ?? [:] where !["apiVersion", "kind"].contains(key) {
            if key == "metadata" {
                for (metaKey, metaValue) in value.objectValue ?? [:]
                where ["labels", "annotations", "finalizers", "ownerReferences"].contains(metaKey) {
                    walk(metaValue, ["metadata", metaKey])
                }
            } else {
                walk(value, [key])
            }
        }
        return result
    }

    private static func merge(_ applied: JSONValue, into live: JSONValue) -> JSONValue {
        guard case .object(let appliedMembers) = applied, case .object(var liveMembers) = live else { return applied }
        for (key, value) in appliedMembers {
            if key == "metadata" {
                var metadata = liveMembers["metadata"] ?? [:]
                for (metaKey, metaValue) in value.objectValue ?? [:] where !["managedFields", "resourceVersion"].contains(metaKey) {
                    metadata[metaKey] = merge(metaValue, into: metadata[metaKey] ?? .null)
                }
                liveMembers["metadata"] = metadata
            } else {
                liveMembers[key] = merge(value, into: liveMembers[key] ?? .null)
            }
        }
        return .object(liveMembers)
    }

    private static func removing(_ path: ArraySlice<String>, from value: JSONValue) -> JSONValue {
        guard let key = path.first, case .object(var members) = value else { return value }
        if path.count == 1 {
            members[key] = nil
        } else if let child = members[key] {
            let updated = removing(path.dropFirst(), from: child)
            members[key] = updated.objectValue?.isEmpty == true ? nil : updated
        }
        return .object(members)
    }

    private static func fieldsV1(_ paths: Set<[String]>) -> JSONValue {
        var root: JSONValue = [:]
        for path in paths.sorted(by: { $0.joined(separator: ".") < $1.joined(separator: ".") }) {
            root = inserting(path[...], into: root)
        }
        return root
    }

    private static func inserting(_ path: ArraySlice<String>, into node: JSONValue) -> JSONValue {
        guard let key = path.first else { return node }
        var members = node.objectValue ?? [:]
        members["f:" + key] = inserting(path.dropFirst(), into: members["f:" + key] ?? [:])
        return .object(members)
    }

    private static func paths(fromFieldsV1 node: JSONValue) -> Set<[String]> {
        var result = Set<[String]>()
        func walk(_ value: JSONValue, _ path: [String]) {
            let children = (value.objectValue ?? [:]).filter { $0.key.hasPrefix("f:") }
            if children.isEmpty {
                if !path.isEmpty { result.insert(path) }
                return
            }
            for (key, child) in children { walk(child, path + [String(key.dropFirst(2))]) }
        }
        walk(node, [])
        return result
    }
}
