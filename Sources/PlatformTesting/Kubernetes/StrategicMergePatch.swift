import DeployerModel

/// `application/strategic-merge-patch+json` for built-in kinds, the subset kubectl's client-side
/// apply relies on: a merge patch whose lists of containers, ports, env, volumes, volume mounts
/// and conditions merge element by element on their key (an element with `"$patch": "delete"`
/// removes its match); other lists are replaced.
enum StrategicMergePatch {
    static let mergeKeys: [String: [String]] = [
        "containers": ["name"], "initContainers": ["name"], "env": ["name"], "volumes": ["name"], "volumeMounts": ["mountPath"],
        "conditions": ["type"], "ports": ["containerPort", "port"], "imagePullSecrets": ["name"],
    ]

    static func apply(_ patch: JSONValue, to target: JSONValue) -> JSONValue {
        guard case .object(let patchMembers) = patch else { return patch }
        var result = target.objectValue ?? [:]
        for (key, value) in patchMembers where !key.hasPrefix("$") {
            if value.isNull {
                result[key] = nil
            } else if let keys = mergeKeys[key], let patchList = value.arrayValue, let liveList = result[key]?.arrayValue {
                result[key] = .array(mergeList(patchList, into: liveList, keys: keys))
            } else {
                result[key] = apply(value, to: result[key] ?? .null)
            }
        }
        return .object(result)
    }

    private static func mergeList(_ patch: [JSONValue], into live: [JSONValue], keys: [String]) -> [JSONValue] {
        var merged = live
        for element in patch {
            guard let key = keys.first(where: { element[$0] != nil }) else {
                merged.append(element)
                continue
            }
            let index = merged.firstIndex { $0[key] == element[key] }
            if element["$patch"]?.stringValue == "delete" {
                if let index { merged.remove(at: index) }
            } else if let index {
                merged[index] = apply(element, to: merged[index])
            } else {
                merged.append(element)
            }
        }
        return merged
    }
}
