extension Schema {
    /// The structural OpenAPI v3 form, as used in a CRD's `openAPIV3Schema`.
    public func openAPI() -> JSONValue {
        switch self {
        case .documented(let text, let inner):
            var rendered = inner.openAPI()
            rendered["description"] = .string(text)
            return rendered
        case .object(let properties):
            var members: [String: JSONValue] = ["type": "object"]
            var rendered: [String: JSONValue] = [:]
            for property in properties {
                var schema = property.schema.openAPI()
                if let defaultValue = property.defaultValue { schema["default"] = defaultValue }
                rendered[property.name] = schema
            }
            if !rendered.isEmpty { members["properties"] = .object(rendered) }
            let required = properties.filter { $0.required && $0.defaultValue == nil }.map { JSONValue.string($0.name) }
            if !required.isEmpty { members["required"] = .array(required) }
            return .object(members)
        case .array(let items, let listMapKeys, let maxItems):
            var members: [String: JSONValue] = ["type": "array", "items": items.openAPI()]
            if let listMapKeys {
                members["x-kubernetes-list-type"] = "map"
                members["x-kubernetes-list-map-keys"] = .array(listMapKeys.map { .string($0) })
            }
            if let maxItems { members["maxItems"] = .int(Int64(maxItems)) }
            return .object(members)
        case .map(let values):
            return ["type": "object", "additionalProperties": values.openAPI()]
        case .string(let rules):
            var members: [String: JSONValue] = ["type": "string"]
            if let allowed = rules.allowed { members["enum"] = .array(allowed.map { .string($0) }) }
            if let pattern = rules.pattern { members["pattern"] = .string(pattern.regex) }
            if let minLength = rules.minLength { members["minLength"] = .int(Int64(minLength)) }
            if let maxLength = rules.maxLength { members["maxLength"] = .int(Int64(maxLength)) }
            if let format = rules.format { members["format"] = .string(format) }
            return .object(members)
        case .integer(let minimum, let maximum):
            var members: [String: JSONValue] = ["type": "integer", "format": "int64"]
            if let minimum { members["minimum"] = .int(minimum) }
            if let maximum { members["maximum"] = .int(maximum) }
            return .object(members)
        case .number(let minimum):
            var members: [String: JSONValue] = ["type": "number"]
            if let minimum { members["minimum"] = .double(minimum) }
            return .object(members)
        case .boolean:
            return ["type": "boolean"]
        case .anyValue:
            return ["x-kubernetes-preserve-unknown-fields": true]
        case .intOrString:
            return ["x-kubernetes-int-or-string": true]
        }
    }
}
