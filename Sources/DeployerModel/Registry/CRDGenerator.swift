/// Builds CustomResourceDefinitions from the kinds, so the CRDs can never drift from the code.
public enum CRDGenerator {
    /// The CRD of one kind (`apiextensions.k8s.io/v1`).
    public static func crd(for kind: ResourceKind) -> JSONValue {
        var version: JSONValue = [
            "name": .string(ResourceKind.version),
            "served": true,
            "storage": true,
            "schema": ["openAPIV3Schema": openAPISchema(for: kind)],
            "additionalPrinterColumns": .array(kind.printerColumns.map(column)),
        ]
        if kind.hasStatus { version["subresources"] = ["status": [:]] }
        let names: JSONValue = [
            "plural": .string(kind.plural),
            "singular": .string(kind.singular),
            "kind": .string(kind.kind),
            "listKind": .string(kind.listKind),
            "shortNames": .array(kind.shortNames.map { .string($0) }),
            "categories": ["apideployer"],
        ]
        return [
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": ["name": .string(kind.qualifiedResource)],
            "spec": [
                "group": .string(ResourceKind.group),
                "scope": "Namespaced",
                "names": names,
                "versions": [version],
            ],
        ]
    }

    /// The structural schema of a kind; metadata stays `type: object` as CRDs require.
    public static func openAPISchema(for kind: ResourceKind) -> JSONValue {
        var schema = Schema.object(
            [
                .init("apiVersion", .string()),
                .init("kind", .string()),
                .init("metadata", .object([])),
            ] + kind.bodyProperties
        ).openAPI()
        schema["description"] = .string("\(kind.kind) of the API Deployer (\(ResourceKind.apiVersion)).")
        return schema
    }

    private static func column(_ column: PrinterColumn) -> JSONValue {
        var rendered: JSONValue = [
            "name": .string(column.name), "type": .string(column.type), "jsonPath": .string(column.jsonPath),
        ]
        if column.priority > 0 { rendered["priority"] = .int(Int64(column.priority)) }
        if !column.description.isEmpty { rendered["description"] = .string(column.description) }
        return rendered
    }

    /// The file name used under `manifests/crds/`.
    public static func fileName(for kind: ResourceKind) -> String {
        "\(ResourceKind.group)_\(kind.plural).yaml"
    }
}
