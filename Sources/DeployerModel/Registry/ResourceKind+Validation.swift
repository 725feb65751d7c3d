/// The result of validating an object: the normalized object, or why it was refused.
public struct ObjectValidation: Sendable {
    /// The object with defaults applied and, unless strict, unknown fields dropped.
    public var object: JSONValue
    public var errors: [FieldError]
    /// Human-readable warnings (unknown fields dropped under `Warn`).
    public var warnings: [String]
}

extension ResourceKind {
    /// Validates a whole object as a client sent it: envelope, metadata rules, schema, and the
    /// kind's own cross-field checks. Collects every error.
    public func validate(_ object: JSONValue, unknownFields: UnknownFieldPolicy = .strict) -> ObjectValidation {
        guard object.objectValue != nil else {
            return ObjectValidation(
                object: object, errors: [FieldError(.typeInvalid, field: "<root>", detail: "must be an object")], warnings: [])
        }
        var check = schema.check(object, at: FieldPath(), unknownFields: unknownFields)
        if let apiVersion = object["apiVersion"]?.stringValue, apiVersion != Self.apiVersion {
            check.errors.append(
                FieldError(.invalid, field: "apiVersion", value: .string(apiVersion), detail: "must be \(Self.apiVersion)"))
        }
        if let kindValue = object["kind"]?.stringValue, kindValue != kind {
            check.errors.append(FieldError(.invalid, field: "kind", value: .string(kindValue), detail: "must be \(kind)"))
        }
        check.errors += Self.validateMetadata(check.value["metadata"] ?? [:])
        if check.errors.isEmpty { check.errors += semanticChecks(check.value) }
        if self == .secret {
            // A secret's values never appear in an error, even when they are malformed.
            check.errors = check.errors.map { $0.field.hasPrefix("data") || $0.field.hasPrefix("stringData") ? $0.redacted : $0 }
        }
        let warnings = check.droppedFields.map { "unknown field \"\($0)\"" }
        return ObjectValidation(object: check.value, errors: check.errors, warnings: warnings)
    }

    /// Name, label and annotation rules.
    static func validateMetadata(_ metadata: JSONValue) -> [FieldError] {
        var errors: [FieldError] = []
        let path = FieldPath("metadata")
        let name = metadata["name"]?.stringValue ?? ""
        let generateName = metadata["generateName"]?.stringValue ?? ""
        if name.isEmpty, generateName.isEmpty {
            errors.append(FieldError(.required, field: "metadata.name", detail: "name or generateName is required"))
        } else if !name.isEmpty, !NameRules.isDNSLabel(name) {
            errors.append(
                FieldError(
                    .invalid, field: "metadata.name", value: .string(name),
                    detail: "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', start and end with an alphanumeric character, and be at most 63 characters"))
        }
        for (key, value) in metadata["labels"]?.objectValue ?? [:] {
            if !NameRules.isQualifiedName(key) {
                errors.append(FieldError(.invalid, field: path.child("labels").description, value: .string(key), detail: "invalid label key"))
            }
            if let text = value.stringValue, !NameRules.isLabelValue(text) {
                errors.append(FieldError(.invalid, field: path.child("labels").key(key).description, value: value, detail: "invalid label value"))
            }
        }
        var annotationBytes = 0
        for (key, value) in metadata["annotations"]?.objectValue ?? [:] {
            annotationBytes += key.utf8.count + (value.stringValue?.utf8.count ?? 0)
            if !NameRules.isQualifiedName(key) {
                errors.append(
                    FieldError(.invalid, field: path.child("annotations").description, value: .string(key), detail: "invalid annotation key"))
            }
        }
        if annotationBytes > 256 * 1024 {
            errors.append(FieldError(.tooLong, field: path.child("annotations").description, detail: "may not be more than 262144 bytes"))
        }
        return errors
    }
}
