import DeployerModel
import Foundation

/// Checks a custom resource against its CRD's structural schema as the API server does:
/// types, `required`, `enum`, bounds, `pattern`, `maxItems`/`maxLength`; `default`s filled in;
/// unknown fields pruned (reported, so `fieldValidation=Strict` can refuse them) unless
/// `x-kubernetes-preserve-unknown-fields`.
struct FakeKubeSchema {
    var causes: [FieldError] = []
    var unknownFields: [String] = []

    /// The object pruned and defaulted. `metadata`, `apiVersion` and `kind` are the server's.
    mutating func check(_ object: JSONValue, schema: JSONValue) -> JSONValue {
        var result = object
        for (key, value) in object.objectValue ?? [:] where !["apiVersion", "kind", "metadata"].contains(key) {
            guard let property = schema["properties"]?[key] else {
                if schema["x-kubernetes-preserve-unknown-fields"]?.boolValue != true {
                    unknownFields.append(key)
                    result[key] = nil
                }
                continue
            }
            result[key] = check(value, schema: property, path: key)
        }
        fillDefaults(&result, schema: schema, path: "")
        return result
    }

    private mutating func check(_ value: JSONValue, schema: JSONValue, path: String) -> JSONValue {
        if value.isNull, schema["nullable"]?.boolValue == true { return value }
        let intOrString = schema["x-kubernetes-int-or-string"]?.boolValue == true
        if let type = schema["type"]?.stringValue, !intOrString, !Self.matches(value, type: type) {
            causes.append(FieldError(.typeInvalid, field: path, value: value, detail: "must be of type \(type)"))
            return value
        }
        if let options = schema["enum"]?.arrayValue, !options.contains(value) {
            causes.append(
                FieldError(.notSupported, field: path, value: value, detail: "supported values: " + options.map(\.jsonString).joined(separator: ", ")))
        }
        if let number = value.doubleValue {
            if let minimum = schema["minimum"]?.doubleValue, number < minimum {
                causes.append(FieldError(.invalid, field: path, value: value, detail: "should be greater than or equal to \(Self.number(minimum))"))
            }
            if let maximum = schema["maximum"]?.doubleValue, number > maximum {
                causes.append(FieldError(.invalid, field: path, value: value, detail: "should be less than or equal to \(Self.number(maximum))"))
            }
        }
        if let text = value.stringValue {
            if let pattern = schema["pattern"]?.stringValue, let expression = try? Regex(pattern), text.firstMatch(of: expression) == nil {
                causes.append(FieldError(.invalid, field: path, value: value, detail: "should match '\(pattern)'"))
            }
            if let limit = schema["maxLength"]?.intValue, text.count > limit {
                causes.append(FieldError(.tooLong, field: path, value: value, detail: "may not be more than \(limit) bytes"))
            }
        }
        switch value {
        case .object(let members):
            var result = members
            let properties = schema["properties"]?.objectValue
            for (key, member) in members {
                let childPath = path + "." + key
                if let property = properties?[key] {
                    result[key] = check(member, schema: property, path: childPath)
                } else if let additional = schema["additionalProperties"], additional.objectValue != nil {
                    result[key] = check(member, schema: additional, path: childPath)
                } else if properties != nil || schema["additionalProperties"] == nil, schema["x-kubernetes-preserve-unknown-fields"]?.boolValue != true {
                    unknownFields.append(childPath)
                    result[key] = nil
                }
            }
            var object = JSONValue.object(result)
            fillDefaults(&object, schema: schema, path: path)
            return object
        case .array(let elements):
            if let limit = schema["maxItems"]?.intValue, elements.count > limit {
                causes.append(FieldError(.tooLong, field: path, value: value, detail: "must have at most \(limit) items"))
            }
            guard let items = schema["items"] else { return value }
            return .array(elements.enumerated().map { index, element in check(element, schema: items, path: "\(path)[\(index)]") })
        default:
            return value
        }
    }

    /// Fills absent properties that have a `default` and reports absent `required` ones.
    private mutating func fillDefaults(_ object: inout JSONValue, schema: JSONValue, path: String) {
        for (key, property) in schema["properties"]?.objectValue ?? [:] where object[key] == nil {
            if let value = property["default"] { object[key] = value }
        }
        for required in (schema["required"]?.arrayValue ?? []).compactMap(\.stringValue) where object[required] == nil {
            causes.append(FieldError(.required, field: path.isEmpty ? required : path + "." + required))
        }
    }

    private static func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("integer", .int), ("number", .int), ("number", .double):
            true
        case ("integer", .double(let number)):
            number.rounded() == number
        default:
            false
        }
    }

    private static func number(_ value: Double) -> String {
        value.rounded() == value ? String(Int64(value)) : String(value)
    }
}
