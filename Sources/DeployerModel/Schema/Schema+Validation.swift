/// What to do with fields the schema does not know (the `fieldValidation` query parameter).
public enum UnknownFieldPolicy: String, Sendable {
    /// Refuse the object, one cause per unknown field (`Strict`).
    case strict = "Strict"
    /// Drop them and report them as warnings (`Warn`).
    case warn = "Warn"
    /// Drop them silently (`Ignore`).
    case ignore = "Ignore"
}

/// The outcome of checking a document against a schema.
public struct SchemaCheck: Sendable {
    /// The document with defaults applied and, unless strict, unknown fields dropped.
    public var value: JSONValue
    public var errors: [FieldError] = []
    /// Paths of unknown fields that were dropped.
    public var droppedFields: [String] = []
}

extension Schema {
    /// Validates `value`, applies defaults and handles unknown fields; collects every error
    /// instead of stopping at the first.
    public func check(_ value: JSONValue, at path: FieldPath, unknownFields: UnknownFieldPolicy) -> SchemaCheck {
        var result = SchemaCheck(value: value)
        result.value = normalize(value, at: path, policy: unknownFields, into: &result)
        return result
    }

    private func normalize(_ value: JSONValue, at path: FieldPath, policy: UnknownFieldPolicy, into result: inout SchemaCheck)
        -> JSONValue
    {
        switch self {
        case .documented(_, let inner):
            return inner.normalize(value, at: path, policy: policy, into: &result)
        case .anyValue:
            return value
        case .object(let properties):
            guard case .object(var members) = value else {
                result.errors.append(typeError(value, expected: "object", at: path))
                return value
            }
            for property in properties {
                if members[property.name] == nil || members[property.name]!.isNull {
                    if let defaultValue = property.defaultValue {
                        members[property.name] = defaultValue
                    } else if property.required {
                        result.errors.append(FieldError(.required, field: path.child(property.name).description))
                        continue
                    } else {
                        members[property.name] = nil
                        continue
                    }
                }
                members[property.name] = property.schema.normalize(
                    members[property.name]!, at: path.child(property.name), policy: policy, into: &result)
            }
            let known = Set(properties.map(\.name))
            for key in members.keys.sorted() where !known.contains(key) {
                let field = path.child(key).description
                if policy == .strict {
                    result.errors.append(FieldError(.forbidden, field: field, detail: "unknown field \"\(field)\""))
                } else {
                    result.droppedFields.append(field)
                    members[key] = nil
                }
            }
            return .object(members)
        case .map(let valueSchema):
            guard case .object(var members) = value else {
                result.errors.append(typeError(value, expected: "object", at: path))
                return value
            }
            for key in members.keys.sorted() {
                members[key] = valueSchema.normalize(members[key]!, at: path.key(key), policy: policy, into: &result)
            }
            return .object(members)
        case .array(let itemSchema, let listMapKeys, let maxItems):
            guard case .array(var elements) = value else {
                result.errors.append(typeError(value, expected: "array", at: path))
                return value
            }
            if let maxItems, elements.count > maxItems {
                result.errors.append(
                    FieldError(.tooLong, field: path.description, detail: "must have at most \(maxItems) items"))
            }
            for position in elements.indices {
                elements[position] = itemSchema.normalize(
                    elements[position], at: path.index(position), policy: policy, into: &result)
            }
            if let listMapKeys { checkUniqueKeys(elements, keys: listMapKeys, at: path, into: &result) }
            return .array(elements)
        case .string(let rules):
            guard case .string(let text) = value else {
                result.errors.append(typeError(value, expected: "string", at: path))
                return value
            }
            checkString(text, rules: rules, at: path, into: &result)
            return value
        case .integer(let minimum, let maximum):
            guard let number = value.intValue else {
                result.errors.append(typeError(value, expected: "integer", at: path))
                return value
            }
            if let minimum, number < minimum {
                result.errors.append(
                    FieldError(.invalid, field: path.description, value: value, detail: "must be greater than or equal to \(minimum)"))
            }
            if let maximum, number > maximum {
                result.errors.append(
                    FieldError(.invalid, field: path.description, value: value, detail: "must be less than or equal to \(maximum)"))
            }
            return .int(number)
        case .number(let minimum):
            let number: Double
            switch value {
            case .int(let integer): number = Double(integer)
            case .double(let double): number = double
            default:
                result.errors.append(typeError(value, expected: "number", at: path))
                return value
            }
            if let minimum, number < minimum {
                result.errors.append(
                    FieldError(.invalid, field: path.description, value: value, detail: "must be greater than or equal to \(minimum)"))
            }
            return value
        case .boolean:
            if value.boolValue == nil { result.errors.append(typeError(value, expected: "boolean", at: path)) }
            return value
        case .intOrString:
            switch value {
            case .int, .string: return value
            default:
                result.errors.append(typeError(value, expected: "integer or string", at: path))
                return value
            }
        }
    }

    private func typeError(_ value: JSONValue, expected: String, at path: FieldPath) -> FieldError {
        FieldError(.typeInvalid, field: path.description, value: value, detail: "must be of type \(expected)")
    }

    private func checkString(_ text: String, rules: StringRules, at path: FieldPath, into result: inout SchemaCheck) {
        let value = JSONValue.string(text)
        if let allowed = rules.allowed, !allowed.contains(text) {
            let supported = allowed.map { "\"\($0)\"" }.joined(separator: ", ")
            result.errors.append(
                FieldError(.notSupported, field: path.description, value: value, detail: "supported values: \(supported)"))
            return
        }
        if let minLength = rules.minLength, text.count < minLength {
            let detail = minLength == 1 ? "must not be empty" : "must be at least \(minLength) characters"
            result.errors.append(FieldError(minLength == 1 ? .required : .invalid, field: path.description, detail: detail))
            return
        }
        if let maxLength = rules.maxLength, text.count > maxLength {
            result.errors.append(
                FieldError(.tooLong, field: path.description, detail: "may not be more than \(maxLength) characters"))
        }
        if let pattern = rules.pattern, !pattern.matches(text) {
            result.errors.append(FieldError(.invalid, field: path.description, value: value, detail: pattern.explanation))
        }
    }

    private func checkUniqueKeys(_ elements: [JSONValue], keys: [String], at path: FieldPath, into result: inout SchemaCheck) {
        var seen = Set<[JSONValue]>()
        for (position, element) in elements.enumerated() {
            let identity = keys.map { element[$0] ?? .null }
            if !seen.insert(identity).inserted {
                let field = path.index(position).child(keys[0]).description
                result.errors.append(FieldError(.duplicate, field: field, value: identity[0]))
            }
        }
    }
}
