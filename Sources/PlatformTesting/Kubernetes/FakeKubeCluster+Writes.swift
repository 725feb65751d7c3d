import DeployerCore
import DeployerModel
import Foundation

/// Reads and writes with the API server's storage semantics (reference 1.5–1.12, 9.2).
extension FakeKubeCluster {
    struct WriteOptions {
        var dryRun = false
        var fieldManager: String?
        /// `Strict`, `Warn` (the default) or `Ignore`.
        var fieldValidation = "Warn"
        /// Warnings for the `Warning` header.
        var warnings: [String] = []
    }

    func notFound(_ resource: FakeKubeResource, _ name: String) -> APIError {
        APIError(code: 404, reason: "NotFound", message: "\(resource.qualified) \"\(name)\" not found", name: name, kind: resource.plural)
    }

    func get(_ resource: FakeKubeResource, namespace: String, name: String) throws -> JSONValue {
        guard let object = objects[StoredKey(storage: resource.storageKey, namespace: namespace, name: name)] else { throw notFound(resource, name) }
        return object
    }

    /// A `<Kind>List` of the matching objects, `limit` at a time: the `continue` token holds the
    /// first page's resource version and the last key served, and later pages leave out objects
    /// created after that version (simplification: objects changed or deleted since show as
    /// they are now).
    func list(_ resource: FakeKubeResource, namespace: String?, labels: LabelSelector, fields: FakeFieldSelector, limit: Int?, continueToken: String?) throws -> JSONValue {
        var snapshot = resourceVersion
        var after: StoredKey?
        if let continueToken, !continueToken.isEmpty {
            guard let decoded = Data(base64Encoded: continueToken).flatMap({ try? JSONValue.parse(Array($0)) }),
                let version = decoded["rv"]?.intValue, let namespace = decoded["namespace"]?.stringValue, let name = decoded["name"]?.stringValue
            else { throw APIError.badRequest("continue key is not valid: \(continueToken)") }
            snapshot = UInt64(version)
            after = StoredKey(storage: resource.storageKey, namespace: namespace, name: name)
        }
        let matching = objects.filter { key, object in
            key.storage == resource.storageKey && (namespace == nil || key.namespace == namespace) && Self.matches(labels, object)
                && fields.matches(object) && (after.map { $0 < key } ?? true) && (createdVersions[key] ?? 0) <= snapshot
        }.sorted { $0.key < $1.key }
        let page = limit.map { Array(matching.prefix($0)) } ?? matching
        var metadata: JSONValue = ["resourceVersion": .string(String(snapshot))]
        if page.count < matching.count, let last = page.last?.key {
            let token: JSONValue = ["rv": .int(Int64(snapshot)), "namespace": .string(last.namespace), "name": .string(last.name)]
            metadata["continue"] = .string(Data(token.serialized()).base64EncodedString())
            metadata["remainingItemCount"] = .int(Int64(matching.count - page.count))
        }
        return ["apiVersion": .string(resource.apiVersion), "kind": .string(resource.kind + "List"), "metadata": metadata, "items": .array(page.map(\.value))]
    }

    // MARK: - Create

    func create(_ resource: FakeKubeResource, namespace: String, body: JSONValue, options: inout WriteOptions) throws -> JSONValue {
        var object = body
        guard object.objectValue != nil else { throw APIError.badRequest("the body of a create must be an object") }
        if let sent = object["metadata"]?["namespace"]?.stringValue, resource.namespaced, sent != namespace {
            throw APIError.badRequest("the namespace of the provided object does not match the namespace sent on the request")
        }
        if object["metadata"] == nil { object["metadata"] = [:] }
        if object["metadata"]?["name"]?.stringValue?.isEmpty ?? true, let prefix = object["metadata"]?["generateName"]?.stringValue {
            object["metadata"]?["name"] = .string(prefix + String(UUID().uuidString.lowercased().prefix(5)))
        }
        guard let name = object["metadata"]?["name"]?.stringValue, !name.isEmpty else {
            throw invalid(resource, "", [FieldError(.required, field: "metadata.name", detail: "name or generateName is required")])
        }
        if resource.namespaced {
            guard objects[StoredKey(storage: "namespaces.", namespace: "", name: namespace)] != nil else {
                throw APIError(code: 404, reason: "NotFound", message: "namespaces \"\(namespace)\" not found", name: namespace, kind: "namespaces")
            }
            object["metadata"]?["namespace"] = .string(namespace)
        } else {
            object["metadata"]?["namespace"] = nil
        }
        let key = StoredKey(storage: resource.storageKey, namespace: resource.namespaced ? namespace : "", name: name)
        guard objects[key] == nil else {
            throw APIError(code: 409, reason: "AlreadyExists", message: "\(resource.qualified) \"\(name)\" already exists", name: name, kind: resource.plural)
        }
        for field in ["uid", "resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "generation", "creationTimestamp"] {
            object["metadata"]?[field] = nil
        }
        object["apiVersion"] = .string(resource.apiVersion)
        object["kind"] = .string(resource.kind)
        object["metadata"]?["uid"] = .string(UUID().uuidString.lowercased())
        object["metadata"]?["creationTimestamp"] = .string(nowText)
        if resource.keepsGeneration || resource.isCustom { object["metadata"]?["generation"] = 1 }
        if resource.hasStatus, resource.storageKey != "namespaces." { object["status"] = nil }
        object = try checked(object, resource: resource, name: name, options: &options)
        if resource.storageKey == "customresourcedefinitions.apiextensions.k8s.io" { object["status"] = FakeKubeDefaults.crdStatus(object, time: nowText) }
        recordManager(&object, options.fieldManager, operation: "Update", resource: resource)
        if options.dryRun { return object }
        return commit(key, object, type: "ADDED")
    }

    // MARK: - Update

    /// PUT: the whole object (or its status), with optimistic concurrency on `resourceVersion`.
    func update(_ resource: FakeKubeResource, namespace: String, name: String, body: JSONValue, status: Bool, options: inout WriteOptions) throws -> JSONValue {
        let key = StoredKey(storage: resource.storageKey, namespace: resource.namespaced ? namespace : "", name: name)
        guard let current = objects[key] else { throw notFound(resource, name) }
        let sentVersion = body["metadata"]?["resourceVersion"]?.stringValue
        if sentVersion == nil, resource.isCustom {
            throw invalid(resource, name, [FieldError(.invalid, field: "metadata.resourceVersion", value: .string("0x0"), detail: "must be specified for an update")])
        }
        if let sentVersion, sentVersion != current["metadata"]?["resourceVersion"]?.stringValue {
            throw APIError(
                code: 409, reason: "Conflict",
                message: "Operation cannot be fulfilled on \(resource.qualified) \"\(name)\": \(APIError.optimisticLockMessage)", name: name,
                kind: resource.plural)
        }
        return try store(key, resource: resource, current: current, proposed: body, status: status, options: &options)
    }

    /// Keeps server-owned metadata, applies the status rules, bumps `generation` on spec changes,
    /// skips no-op writes (same resource version, no event) and removes an object whose last
    /// finalizer went while it was being deleted.
    func store(_ key: StoredKey, resource: FakeKubeResource, current: JSONValue, proposed: JSONValue, status: Bool, options: inout WriteOptions) throws -> JSONValue {
        var object = proposed
        object["apiVersion"] = .string(resource.apiVersion)
        object["kind"] = .string(resource.kind)
        if status {
            var whole = current
            whole["status"] = proposed["status"]
            object = whole
        } else {
            var metadata = proposed["metadata"] ?? [:]
            for field in ["uid", "creationTimestamp", "generation", "deletionTimestamp", "deletionGracePeriodSeconds", "name", "namespace"] {
                metadata[field] = current["metadata"]?[field]
            }
            if metadata["managedFields"] == nil { metadata["managedFields"] = current["metadata"]?["managedFields"] }
            object["metadata"] = metadata
            if resource.hasStatus { object["status"] = current["status"] }
            if current["metadata"]?["deletionTimestamp"] != nil {
                let before = Set((current["metadata"]?["finalizers"]?.arrayValue ?? []).compactMap(\.stringValue))
                let after = Set((metadata["finalizers"]?.arrayValue ?? []).compactMap(\.stringValue))
                if !after.isSubset(of: before) {
                    throw invalid(resource, key.name, [FieldError(.forbidden, field: "metadata.finalizers", detail: "no new finalizers can be added if the object is being deleted")])
                }
            }
            object = try checked(object, resource: resource, name: key.name, options: &options)
            if Self.specChanged(current, object, resource: resource), let generation = current["metadata"]?["generation"]?.intValue {
                object["metadata"]?["generation"] = .int(generation + 1)
            }
        }
        object["metadata"]?["resourceVersion"] = current["metadata"]?["resourceVersion"]
        recordManager(&object, options.fieldManager, operation: "Update", resource: resource)
        if object == current || options.dryRun { return options.dryRun ? object : current }
        let deleting = object["metadata"]?["deletionTimestamp"] != nil && (object["metadata"]?["finalizers"]?.arrayValue ?? []).isEmpty
        return commit(key, object, type: deleting ? "DELETED" : "MODIFIED")
    }

    /// Generation counts changes of everything but metadata and status (for Deployments,
    /// annotations too).
    static func specChanged(_ before: JSONValue, _ after: JSONValue, resource: FakeKubeResource) -> Bool {
        func content(_ object: JSONValue) -> JSONValue {
            var stripped = object
            stripped["metadata"] = resource.storageKey == "deployments.apps" ? ["annotations": object["metadata"]?["annotations"] ?? .null] : nil
            stripped["status"] = nil
            return stripped
        }
        return content(before) != content(after)
    }

    // MARK: - Patch

    func patch(
        _ resource: FakeKubeResource, namespace: String, name: String, contentType: String, body: [UInt8], status: Bool, force: Bool?,
        options: inout WriteOptions
    ) throws -> (object: JSONValue, created: Bool) {
        let key = StoredKey(storage: resource.storageKey, namespace: resource.namespaced ? namespace : "", name: name)
        let type = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        if force != nil, type != "application/apply-patch+yaml" {
            throw invalid(resource, name, [FieldError(.forbidden, field: "force", detail: "may not be specified for non-apply patch")])
        }
        let current = objects[key]
        let patched: JSONValue
        switch type {
        case "application/merge-patch+json", "application/json-patch+json", "application/strategic-merge-patch+json":
            guard let current else { throw notFound(resource, name) }
            guard let document = try? JSONValue.parse(body) else { throw APIError.badRequest("the patch is not valid JSON") }
            if type == "application/merge-patch+json" {
                patched = MergePatch.apply(document, to: current)
            } else if type == "application/json-patch+json" {
                patched = try JSONPatch.apply(document, to: current)
            } else {
                guard !resource.isCustom else {
                    throw APIError.unsupportedMediaType(type, accepted: ["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"])
                }
                patched = StrategicMergePatch.apply(document, to: current)
            }
        case "application/apply-patch+yaml":
            guard let manager = options.fieldManager, !manager.isEmpty else {
                throw APIError.badRequest("PATCH requests with apply must specify fieldManager")
            }
            guard let applied = (try? JSONValue.parseYAMLDocuments(String(decoding: body, as: UTF8.self)))?.first, applied.objectValue != nil else {
                throw APIError.badRequest("the applied configuration is not a YAML or JSON object")
            }
            guard let current else {
                options.fieldManager = nil
                return (try create(resource, namespace: namespace, body: ServerSideApply.apply(applied: applied, to: nil, manager: manager, time: nowText), options: &options), true)
            }
            patched = ServerSideApply.apply(applied: applied, to: current, manager: manager, time: nowText)
            options.fieldManager = nil
        default:
            throw APIError.unsupportedMediaType(
                contentType, accepted: ["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml", "application/strategic-merge-patch+json"])
        }
        guard let current else { throw notFound(resource, name) }
        if let sent = patched["metadata"]?["resourceVersion"]?.stringValue, sent != current["metadata"]?["resourceVersion"]?.stringValue {
            throw APIError(
                code: 409, reason: "Conflict",
                message: "Operation cannot be fulfilled on \(resource.qualified) \"\(name)\": \(APIError.optimisticLockMessage)", name: name,
                kind: resource.plural)
        }
        return (try store(key, resource: resource, current: current, proposed: patched, status: status, options: &options), false)
    }

    // MARK: - Delete

    /// Removes the object (200 + `Status`), or, with finalizers, marks it deleting (200 + the
    /// object). `propagationPolicy`: Background (default: dependents collected after),
    /// Foreground (dependents first), Orphan (dependents lose the owner reference).
    func delete(_ key: StoredKey, options: JSONValue) throws -> JSONValue {
        guard let resource = resources.first(where: { $0.storageKey == key.storage }) else { throw APIError.resourceNotFound(key.storage) }
        guard var object = objects[key] else { throw notFound(resource, key.name) }
        let uid = object["metadata"]?["uid"]?.stringValue ?? ""
        if let expected = options["preconditions"]?["uid"]?.stringValue, !expected.isEmpty, expected != uid {
            throw APIError(
                code: 409, reason: "Conflict",
                message: "Operation cannot be fulfilled on \(resource.qualified) \"\(key.name)\": Precondition failed: UID in precondition: \(expected), UID in object meta: \(uid)",
                name: key.name, kind: resource.plural)
        }
        if let expected = options["preconditions"]?["resourceVersion"]?.stringValue, expected != object["metadata"]?["resourceVersion"]?.stringValue {
            throw APIError(
                code: 409, reason: "Conflict",
                message: "Operation cannot be fulfilled on \(resource.qualified) \"\(key.name)\": \(APIError.optimisticLockMessage)", name: key.name,
                kind: resource.plural)
        }
        if options["dryRun"] != nil { return object }
        let policy = options["propagationPolicy"]?.stringValue ?? (options["orphanDependents"]?.boolValue == true ? "Orphan" : "Background")
        if policy == "Orphan" {
            for (dependentKey, dependent) in objects where (dependent["metadata"]?["ownerReferences"]?.arrayValue ?? []).contains(where: { $0["uid"]?.stringValue == uid }) {
                var orphan = dependent
                let remaining = (dependent["metadata"]?["ownerReferences"]?.arrayValue ?? []).filter { $0["uid"]?.stringValue != uid }
                orphan["metadata"]?["ownerReferences"] = remaining.isEmpty ? nil : .array(remaining)
                commit(dependentKey, orphan, type: "MODIFIED")
            }
        } else if policy == "Foreground" {
            for (dependentKey, dependent) in objects.sorted(by: { $0.key < $1.key })
            where (dependent["metadata"]?["ownerReferences"]?.arrayValue ?? []).contains(where: { $0["uid"]?.stringValue == uid }) {
                _ = try? delete(dependentKey, options: ["propagationPolicy": "Foreground"])
            }
        }
        if !(object["metadata"]?["finalizers"]?.arrayValue ?? []).isEmpty {
            guard object["metadata"]?["deletionTimestamp"] == nil else { return object }
            object["metadata"]?["deletionTimestamp"] = .string(nowText)
            object["metadata"]?["deletionGracePeriodSeconds"] = 0
            if let generation = object["metadata"]?["generation"]?.intValue { object["metadata"]?["generation"] = .int(generation + 1) }
            return commit(key, object, type: "MODIFIED")
        }
        commit(key, object, type: "DELETED")
        var details: JSONValue = ["name": .string(key.name), "kind": .string(resource.plural), "uid": .string(uid)]
        if !resource.group.isEmpty { details["group"] = .string(resource.group) }
        return ["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Success", "details": details]
    }

    // MARK: - Helpers

    /// Validation, CRD schema pruning and defaults, built-in defaults and size limits.
    private func checked(_ object: JSONValue, resource: FakeKubeResource, name: String, options: inout WriteOptions) throws -> JSONValue {
        var result = object
        var causes: [FieldError] = []
        let label = resource.storageKey == "services." || resource.storageKey == "namespaces."
        let namePattern = label ? /[a-z]([-a-z0-9]{0,61}[a-z0-9])?/ : /[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/
        if name.wholeMatch(of: namePattern) == nil || name.count > (label ? 63 : 253) {
            let rule = label ? "a lowercase RFC 1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character"
                : "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
            causes.append(FieldError(.invalid, field: "metadata.name", value: .string(name), detail: rule))
        }
        for (label, value) in result["metadata"]?["labels"]?.objectValue ?? [:] {
            let text = value.stringValue ?? ""
            if text.count > 63 || (!text.isEmpty && text.wholeMatch(of: /[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?/) == nil) {
                causes.append(FieldError(.invalid, field: "metadata.labels", value: value, detail: "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (label \(label))"))
            }
        }
        if let schema = resource.schema {
            var check = FakeKubeSchema()
            result = check.check(result, schema: schema)
            causes += check.causes
            if options.fieldValidation == "Strict" {
                causes += check.unknownFields.map { FieldError(.forbidden, field: $0, detail: "unknown field \"\($0)\"") }
            } else if options.fieldValidation == "Warn" {
                options.warnings += check.unknownFields.map { "unknown field \"\($0)\"" }
            }
        }
        FakeKubeDefaults.apply(&result, resource: resource, allocate: allocate)
        if ["secrets.", "configmaps."].contains(resource.storageKey), FakeKubeDefaults.payloadBytes(result) > FakeKubeDefaults.maximumPayloadBytes {
            causes.append(FieldError(.tooLong, field: "data", detail: "may not be more than \(FakeKubeDefaults.maximumPayloadBytes) bytes"))
        }
        if !causes.isEmpty { throw invalid(resource, name, causes) }
        return result
    }

    func invalid(_ resource: FakeKubeResource, _ name: String, _ causes: [FieldError]) -> APIError {
        let joined = causes.count == 1 ? causes[0].description : "[" + causes.map(\.description).joined(separator: ", ") + "]"
        let qualifiedKind = resource.group.isEmpty ? resource.kind : "\(resource.kind).\(resource.group)"
        return APIError(code: 422, reason: "Invalid", message: "\(qualifiedKind) \"\(name)\" is invalid: \(joined)", name: name, kind: resource.kind, causes: causes)
    }

    /// A plausible `managedFields` entry for a manager's non-apply write.
    private func recordManager(_ object: inout JSONValue, _ manager: String?, operation: String, resource: FakeKubeResource) {
        guard let manager, !manager.isEmpty else { return }
        var entries = object["metadata"]?["managedFields"]?.arrayValue ?? []
        guard !entries.contains(where: { $0["manager"]?.stringValue == manager && $0["operation"]?.stringValue == operation }) else { return }
        entries.append([
            "manager": .string(manager), "operation": .string(operation), "apiVersion": .string(resource.apiVersion), "time": .string(nowText),
            "fieldsType": "FieldsV1", "fieldsV1": [:],
        ])
        object["metadata"]?["managedFields"] = .array(entries)
    }
}
