import DeployerCore
import DeployerModel

extension KubeAPI {
    func get(_ request: APIRequest, path: ResourcePath, name: String, caller: Caller) async throws -> APIResponse {
        let object = try await store.get(ObjectKey(path.kind, namespace: path.namespace ?? "default", name: name))
        try await requireVisible(caller, object)
        if wantsTable(request) {
            return tableResponse(TableRenderer(kind: path.kind, now: now()).table([object], resourceVersion: object.resourceVersion))
        }
        return .jsonBytes(object.json)
    }

    /// Lists what the caller may see (a page may then hold fewer items than `limit`).
    func list(_ request: APIRequest, path: ResourcePath, caller: Caller) async throws -> APIResponse {
        var result = try await store.list(path.kind, try listQuery(request, namespace: path.namespace))
        if !caller.isGlobalAdmin {
            let context = try await accessContext(caller, kind: path.kind, namespace: path.namespace)
            result = result.filter { AccessRules.canSee(caller, path.kind, $0.document, context: context) }
        }
        if wantsTable(request) {
            var table = TableRenderer(kind: path.kind, now: now()).table(result.items, resourceVersion: result.resourceVersion)
            if let token = result.continueToken { table["metadata"]?["continue"] = .string(token) }
            return tableResponse(table)
        }
        return .jsonBytes(Self.listBytes(result, kind: path.kind))
    }

    /// Serializes a list by concatenating the stored bytes of its items (no re-encoding).
    static func listBytes(_ result: ListResult, kind: ResourceKind) -> [UInt8] {
        var metadata: JSONValue = ["resourceVersion": .string(String(result.resourceVersion))]
        if let token = result.continueToken { metadata["continue"] = .string(token) }
        if let remaining = result.remainingItemCount { metadata["remainingItemCount"] = .int(Int64(remaining)) }
        var output: [UInt8] = []
        output.reserveCapacity(result.items.reduce(256) { $0 + $1.json.count + 1 })
        output.append(contentsOf: "{\"apiVersion\":\"\(ResourceKind.apiVersion)\",\"kind\":\"\(kind.listKind)\",\"metadata\":".utf8)
        metadata.write(into: &output)
        output.append(contentsOf: ",\"items\":[".utf8)
        for (position, item) in result.items.enumerated() {
            if position > 0 { output.append(UInt8(ascii: ",")) }
            output.append(contentsOf: item.json)
        }
        output.append(contentsOf: "]}".utf8)
        return output
    }

    func tableResponse(_ table: JSONValue) -> APIResponse {
        .json(table, contentType: "application/json;as=Table;v=v1;g=meta.k8s.io")
    }
}
