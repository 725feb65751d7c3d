import Crypto
import DeployerModel

/// The OpenAPI v3 documents kubectl reads to decide that the server validates fields itself
/// (`fieldValidation=Strict`) and that `kubectl explain` uses.
extension KubeAPI {
    static let groupVersionPath = "apis/\(ResourceKind.group)/\(ResourceKind.version)"

    /// The v3 group-version document, built once.
    static let openAPIDocument: [UInt8] = buildOpenAPIDocument().serialized()

    static let openAPIHash: String = {
        String(SHA256.hash(data: openAPIDocument).hexString.prefix(32))
    }()

    func openAPIIndex() -> APIResponse {
        .json([
            "paths": [
                Self.groupVersionPath: ["serverRelativeURL": .string("/openapi/v3/\(Self.groupVersionPath)?hash=\(Self.openAPIHash)")]
            ]
        ])
    }

    func openAPIGroupVersion() -> APIResponse {
        .jsonBytes(Self.openAPIDocument)
    }

    private static func buildOpenAPIDocument() -> JSONValue {
        var paths: [String: JSONValue] = [:]
        var schemas: [String: JSONValue] = [:]
        for kind in ResourceKind.all {
            let gvk: JSONValue = [
                "group": .string(ResourceKind.group), "version": .string(ResourceKind.version), "kind": .string(kind.kind),
            ]
            let schemaName = "dev.apideployer.\(ResourceKind.version).\(kind.kind)"
            var schema = CRDGenerator.openAPISchema(for: kind)
            schema["x-kubernetes-group-version-kind"] = [gvk]
            schemas[schemaName] = schema
            let reference: JSONValue = ["$ref": .string("#/components/schemas/\(schemaName)")]
            let body: JSONValue = ["content": ["application/json": ["schema": reference]]]
            let ok: JSONValue = ["200": ["description": "OK", "content": ["application/json": ["schema": reference]]]]
            let parameters: JSONValue = [
                ["name": "namespace", "in": "path", "required": true, "schema": ["type": "string"]],
                ["name": "name", "in": "path", "required": true, "schema": ["type": "string"]],
                ["name": "dryRun", "in": "query", "schema": ["type": "string"]],
                ["name": "fieldManager", "in": "query", "schema": ["type": "string"]],
                ["name": "fieldValidation", "in": "query", "schema": ["type": "string"]],
            ]
            func operation(_ id: String, _ action: String, withBody: Bool) -> JSONValue {
                var op: JSONValue = [
                    "operationId": .string("\(id)\(kind.kind)"), "x-kubernetes-action": .string(action),
                    "x-kubernetes-group-version-kind": gvk, "parameters": parameters, "responses": ok,
                ]
                if withBody { op["requestBody"] = body }
                return op
            }
            let objectPath = "/\(groupVersionPath)/namespaces/{namespace}/\(kind.plural)/{name}"
            paths[objectPath] = [
                "get": operation("read", "get", withBody: false),
                "put": operation("replace", "put", withBody: true),
                "patch": operation("patch", "patch", withBody: true),
                "delete": operation("delete", "delete", withBody: false),
            ]
            paths["/\(groupVersionPath)/namespaces/{namespace}/\(kind.plural)"] = [
                "post": operation("create", "post", withBody: true)
            ]
            if kind.hasStatus {
                paths[objectPath + "/status"] = [
                    "get": operation("read", "get", withBody: false),
                    "put": operation("replace", "put", withBody: true),
                    "patch": operation("patch", "patch", withBody: true),
                ]
            }
        }
        return [
            "openapi": "3.0.0", "info": ["title": "API Deployer", "version": .string(ResourceKind.version)],
            "paths": .object(paths), "components": ["schemas": .object(schemas)],
        ]
    }
}

import Foundation
