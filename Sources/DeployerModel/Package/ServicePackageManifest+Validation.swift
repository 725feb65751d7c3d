extension ServicePackageManifest {
    static let relativePath = Schema.Pattern(
        regex: "^[^/].*$",
        explanation: "must be a relative path inside the package, without '..'",
        matches: { !$0.hasPrefix("/") && !$0.split(separator: "/").contains("..") && !$0.isEmpty }
    )

    static let identifier = Schema.Pattern(
        regex: "^[A-Za-z0-9][-A-Za-z0-9_.]*$",
        explanation: "must start with a letter or digit and hold only letters, digits, '-', '_' and '.'",
        matches: NameRules.isIdentifier
    )

    static let schema: Schema = .object([
        .init("apiVersion", .oneOf([ResourceKind.apiVersion]), required: true),
        .init("kind", .oneOf(["ServicePackage"]), required: true),
        .init("service", .string(.init(pattern: .dnsLabel)), required: true),
        .init("version", .string(.init(pattern: PublishedService.versionPattern)), required: true),
        .init(
            "endpoints",
            .array(
                .object([
                    .init("id", .string(.init(pattern: identifier, maxLength: 128)), required: true),
                    .init("type", .oneOf(EndpointType.allCases.map(\.rawValue)), required: true),
                    .init("model", .string(.init(pattern: relativePath))),
                    .init("classes", .array(.string())),
                    .init("features", .array(.nonEmptyString)),
                    .init(
                        "python",
                        .object([
                            .init("file", .string(.init(pattern: relativePath)), required: true),
                            .init("class", .nonEmptyString),
                            .init("function", .nonEmptyString),
                            .init("requirements", .string(.init(pattern: relativePath))),
                        ])),
                    .init(
                        "sql",
                        .object([
                            .init("database", .string(.init(pattern: relativePath))),
                            .init("connection", .nonEmptyString),
                            .init("query", .nonEmptyString, required: true),
                            .init(
                                "parameters",
                                .array(
                                    .object([
                                        .init("name", .string(.init(pattern: identifier)), required: true),
                                        .init("type", .oneOf(["string", "int", "float", "boolean"]), required: true),
                                    ]), listMapKeys: ["name"])),
                        ])),
                    .init(
                        "lookup",
                        .object([
                            .init("database", .string(.init(pattern: relativePath)), required: true),
                            .init("table", .nonEmptyString, required: true),
                            .init("keys", .array(.nonEmptyString), required: true),
                        ])),
                ]), listMapKeys: ["id"]),
            required: true),
    ])

    /// Parses and checks a manifest; `files` are the paths present in the package (nil skips
    /// the file check). Every problem is reported, each with its field path.
    public static func validated(_ document: JSONValue, files: Set<String>?) throws -> ServicePackageManifest {
        let check = schema.check(document, at: FieldPath(), unknownFields: .strict)
        var errors = check.errors
        if errors.isEmpty {
            for (index, endpoint) in (check.value["endpoints"]?.arrayValue ?? []).enumerated() {
                errors += endpointErrors(endpoint, at: FieldPath("endpoints").index(index))
            }
        }
        guard errors.isEmpty else { throw PackageManifestError(errors: errors) }
        let manifest = try check.value.decode(ServicePackageManifest.self)
        if let files {
            let missing = manifest.referencedFiles.filter { !files.contains($0.path) }
            if !missing.isEmpty {
                throw PackageManifestError(errors: missing.map {
                    FieldError(.notFound, field: $0.field, value: .string($0.path), detail: "no such file in the package")
                })
            }
        }
        return manifest
    }

    /// Each endpoint type needs its own block, and only it.
    private static func endpointErrors(_ endpoint: JSONValue, at path: FieldPath) -> [FieldError] {
        let type = endpoint["type"]?.stringValue ?? ""
        let needed: [String: String] = [
            "prediction": "model", "python-prediction": "python", "function": "python", "sql-query": "sql", "dataset-lookup": "lookup",
        ]
        var errors: [FieldError] = []
        if let block = needed[type], endpoint[block] == nil {
            errors.append(FieldError(.required, field: path.child(block).description, detail: "type is \"\(type)\""))
        }
        for block in Set(needed.values) where block != needed[type] && endpoint[block] != nil {
            errors.append(FieldError(.forbidden, field: path.child(block).description, detail: "not used by a \"\(type)\" endpoint"))
        }
        if type == "python-prediction", endpoint["python"]?["class"] == nil {
            errors.append(FieldError(.required, field: path.child("python").child("class").description))
        }
        if type == "function", endpoint["python"]?["function"] == nil {
            errors.append(FieldError(.required, field: path.child("python").child("function").description))
        }
        if let sql = endpoint["sql"], (sql["database"] == nil) == (sql["connection"] == nil) {
            errors.append(FieldError(.required, field: path.child("sql").child("database").description, detail: "give database or connection"))
        }
        return errors
    }
}

/// A manifest that was refused, with every problem found.
public struct PackageManifestError: Error, Sendable, CustomStringConvertible {
    public let errors: [FieldError]
    public var description: String {
        "service.yaml is invalid: " + errors.map(\.description).joined(separator: "; ")
    }
}
