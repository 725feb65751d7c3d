import DeployerCore
import DeployerModel
import Foundation

extension KubeAPI {
    func create(_ request: APIRequest, path: ResourcePath, caller: Caller) async throws -> APIResponse {
        let namespace = path.namespace ?? "default"
        var document = try parseBody(request)
        try checkNamespace(document, namespace: namespace)
        document["metadata"]?["namespace"] = .string(namespace)
        var (prepared, warnings) = try prepare(document, kind: path.kind, request: request)
        let context = try await accessContext(caller, kind: path.kind, namespace: namespace)
        try Self.enforce(
            AccessRules.check(caller, path.kind, .create(prepared), context: context), caller: caller, verb: "create", kind: path.kind,
            name: prepared["metadata"]?["name"]?.stringValue ?? "")
        if path.kind == .serviceDeployment { prepared = stampRequester(prepared, current: nil, caller: caller) }
        let object = try await store.create(prepared, kind: path.kind, dryRun: isDryRun(request))
        return withWarnings(.jsonBytes(object.json, status: 201), warnings)
    }

    func replace(_ request: APIRequest, path: ResourcePath, name: String, caller: Caller) async throws -> APIResponse {
        let namespace = path.namespace ?? "default"
        let document = try parseBody(request)
        try checkNamespace(document, namespace: namespace)
        if (document["metadata"]?["resourceVersion"]?.stringValue ?? "").isEmpty {
            throw APIError.invalid(
                path.kind, name,
                [FieldError(.invalid, field: "metadata.resourceVersion", value: .string("0x0"), detail: "must be specified for an update")])
        }
        let (prepared, warnings) = try prepare(document, kind: path.kind, request: request)
        let check = try await changeCheck(caller, path: path, name: name, verb: "update")
        let object = try await store.modify(
            ObjectKey(path.kind, namespace: namespace, name: name), subresource: subresource(path), createIfMissing: false,
            dryRun: isDryRun(request)
        ) { current in
            guard let current else { throw APIError.notFound(path.kind, name) }
            return try check(current, stampRequester(prepared, current: current, caller: caller, path: path))
        }
        return withWarnings(.jsonBytes(object.json), warnings)
    }

    func patch(_ request: APIRequest, path: ResourcePath, name: String, caller: Caller) async throws -> APIResponse {
        let namespace = path.namespace ?? "default"
        let contentType = (request.header("content-type") ?? "").split(separator: ";").first.map(String.init) ?? ""
        let isApply = contentType == "application/apply-patch+yaml"
        if request.query["force"] != nil, !isApply {
            throw APIError.invalid(path.kind, name, [FieldError(.forbidden, field: "force", detail: "may not be specified for non-apply patch")])
        }
        let patchBody = try parseBody(request, allowYAML: isApply)
        let kind = path.kind
        let policy = try fieldValidation(request)
        let warnings = WarningCollector()
        let transform: ObjectTransform
        switch contentType {
        case "application/merge-patch+json":
            transform = { current in try prune(MergePatch.apply(patchBody, to: current ?? [:]), kind: kind, policy: policy, into: warnings) }
        case "application/json-patch+json":
            transform = { current in try prune(JSONPatch.apply(patchBody, to: current ?? [:]), kind: kind, policy: policy, into: warnings) }
        case "application/apply-patch+yaml":
            guard let manager = request.query["fieldManager"], !manager.isEmpty else {
                throw APIError.invalid(
                    kind, name, [FieldError(.required, field: "fieldManager", detail: "is required for apply patch")])
            }
            try checkNamespace(patchBody, namespace: namespace)
            guard patchBody["metadata"]?["name"]?.stringValue == name else {
                throw APIError.badRequest("the name of the applied object must be \"\(name)\"")
            }
            let time = WriteRules.timestamp(now())
            transform = { current in
                var applied = ServerSideApply.apply(applied: patchBody, to: current, manager: manager, time: time)
                applied["metadata"]?["namespace"] = .string(namespace)
                return try prune(applied, kind: kind, policy: policy, into: warnings)
            }
        case "application/strategic-merge-patch+json":
            throw APIError.unsupportedMediaType(contentType, accepted: Self.patchTypes)
        default:
            throw APIError.unsupportedMediaType(contentType, accepted: Self.patchTypes)
        }
        let key = ObjectKey(kind, namespace: namespace, name: name)
        let existedBefore = (try? await store.get(key)) != nil
        let check = try await changeCheck(caller, path: path, name: name, verb: "patch")
        let object = try await store.modify(
            key, subresource: subresource(path), createIfMissing: isApply, dryRun: isDryRun(request)
        ) { current in
            try check(current, stampRequester(transform(current), current: current, caller: caller, path: path))
        }
        return withWarnings(.jsonBytes(object.json, status: isApply && !existedBefore ? 201 : 200), warnings.messages)
    }

    static let patchTypes = ["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"]

    func delete(_ request: APIRequest, path: ResourcePath, name: String, caller: Caller) async throws -> APIResponse {
        let options = request.body.isEmpty ? JSONValue.object([:]) : try parseBody(request)
        var preconditions = DeletePreconditions(
            uid: options["preconditions"]?["uid"]?.stringValue,
            resourceVersion: options["preconditions"]?["resourceVersion"]?.stringValue)
        let dryRun = isDryRun(request) || (options["dryRun"]?.arrayValue ?? []).contains("All")
        let key = ObjectKey(path.kind, namespace: path.namespace ?? "default", name: name)
        if !caller.isGlobalAdmin {
            // Judged on the object as read; the delete applies only to that version of it.
            let current = try await store.get(key)
            let context = try await accessContext(caller, kind: path.kind, namespace: key.namespace)
            try Self.enforce(
                AccessRules.check(caller, path.kind, .delete(current.document), context: context), caller: caller, verb: "delete",
                kind: path.kind, name: name)
            if preconditions.resourceVersion == nil { preconditions.resourceVersion = String(current.resourceVersion) }
        }
        switch try await store.delete(key, preconditions: preconditions, dryRun: dryRun) {
        case .finalizing(let object):
            return .jsonBytes(object.json)
        case .deleted(let object):
            let details: JSONValue = [
                "name": .string(name), "group": .string(ResourceKind.group), "kind": .string(path.kind.plural),
                "uid": object.document["metadata"]?["uid"] ?? "",
            ]
            return .json(["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Success", "details": details])
        }
    }

    // MARK: - Helpers

    func parseBody(_ request: APIRequest, allowYAML: Bool = true) throws -> JSONValue {
        let contentType = request.header("content-type") ?? "application/json"
        if contentType.contains("protobuf") {
            throw APIError.unsupportedMediaType(contentType, accepted: ["application/json", "application/yaml"])
        }
        if request.body.count > Self.maximumBodyBytes { throw APIError.tooLarge(Self.maximumBodyBytes) }
        let isJSON = request.body.first { ![0x20, 0x0A, 0x0D, 0x09].contains($0) } == UInt8(ascii: "{")
        do {
            if isJSON || !allowYAML { return try JSONValue.parse(request.body) }
            let documents = try JSONValue.parseYAMLDocuments(String(decoding: request.body, as: UTF8.self))
            guard documents.count == 1 else { throw APIError.badRequest("the request body must hold exactly one object") }
            return documents[0]
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError.badRequest("the request body is not valid: \(error)")
        }
    }

    private func checkNamespace(_ document: JSONValue, namespace: String) throws {
        if let given = document["metadata"]?["namespace"]?.stringValue, !given.isEmpty, given != namespace {
            throw APIError.badRequest("the namespace of the provided object does not match the namespace sent on the request")
        }
    }

    func fieldValidation(_ request: APIRequest) throws -> UnknownFieldPolicy {
        guard let value = request.query["fieldValidation"], !value.isEmpty else { return .strict }
        guard let policy = UnknownFieldPolicy(rawValue: value) else {
            throw APIError.badRequest("fieldValidation must be one of Strict, Warn, Ignore; got \"\(value)\"")
        }
        return policy
    }

    /// Drops unknown fields unless the policy is strict (the store then reports them).
    private func prepare(_ document: JSONValue, kind: ResourceKind, request: APIRequest) throws -> (JSONValue, [String]) {
        let collector = WarningCollector()
        let prepared = try prune(document, kind: kind, policy: fieldValidation(request), into: collector)
        return (prepared, collector.messages)
    }

    /// Records who changed a deployment's spec (`apideployer.dev/requester`), for its rollout history.
    private func stampRequester(_ document: JSONValue, current: JSONValue?, caller: Caller, path: ResourcePath? = nil) -> JSONValue {
        if let path, path.kind != .serviceDeployment || path.subresource != nil { return document }
        if let current, current["spec"] == document["spec"] { return document }
        var stamped = document
        if stamped["metadata"]?["annotations"] == nil { stamped["metadata"]?["annotations"] = [:] }
        stamped["metadata"]?["annotations"]?[ControllerNames.requesterAnnotation] = .string(caller.user)
        return stamped
    }

    /// The permission check run inside the store's atomic modify: given the stored object (nil
    /// for a server-side apply that creates) and the result, it returns the result or throws.
    private func changeCheck(
        _ caller: Caller, path: ResourcePath, name: String, verb: String
    ) async throws -> @Sendable (JSONValue?, JSONValue) throws -> JSONValue {
        let context = try await accessContext(caller, kind: path.kind, namespace: path.namespace ?? "default")
        let statusOnly = path.subresource == "status"
        return { current, result in
            let change: AccessChange = current.map { .update(before: $0, after: result, statusOnly: statusOnly) } ?? .create(result)
            try Self.enforce(AccessRules.check(caller, path.kind, change, context: context), caller: caller, verb: verb, kind: path.kind, name: name)
            return result
        }
    }

    private func isDryRun(_ request: APIRequest) -> Bool { request.query["dryRun"] == "All" }

    private func subresource(_ path: ResourcePath) -> Subresource { path.subresource == "status" ? .status : .main }

    private func withWarnings(_ response: APIResponse, _ warnings: [String]) -> APIResponse {
        var response = response
        for warning in warnings { response.headers.append(("Warning", "299 - \"\(warning.replacingOccurrences(of: "\"", with: "\\\""))\"")) }
        return response
    }
}

/// Drops unknown fields under `Warn` and `Ignore`, recording warnings; strict leaves them for
/// the store's validation, which refuses the object with one cause per field.
func prune(_ document: JSONValue, kind: ResourceKind, policy: UnknownFieldPolicy, into warnings: WarningCollector) throws -> JSONValue {
    guard policy != .strict else { return document }
    let validation = kind.validate(document, unknownFields: policy)
    if policy == .warn { warnings.add(validation.warnings) }
    var pruned = validation.object
    if pruned["metadata"] == nil { pruned["metadata"] = document["metadata"] }
    return pruned
}

/// Collects warnings from a transform that runs inside the store.
final class WarningCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var collected: [String] = []

    func add(_ messages: [String]) {
        lock.withLock { collected += messages }
    }

    var messages: [String] { lock.withLock { collected } }
}
