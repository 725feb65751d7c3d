import DeployerModel

extension ObjectKey {
    /// The object a work-queue key (`namespace/name`) names; nil for a malformed key.
    init?(_ kind: ResourceKind, queueKey: String) {
        let parts = queueKey.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return nil }
        self.init(kind, namespace: parts[0], name: parts[1])
    }
}

extension ResourceStore {
    /// Reads an object; nil when it does not exist.
    func getIfPresent(_ key: ObjectKey) async throws -> StoredObject? {
        do {
            return try await get(key)
        } catch let error as APIError where error.code == 404 {
            return nil
        }
    }

    /// Reads and decodes an object; nil when it does not exist.
    func decoded<T: Decodable>(_ type: T.Type, at key: ObjectKey) async throws -> T? {
        try await getIfPresent(key)?.document.decode(T.self)
    }

    /// Replaces the object's status through `/status`.
    func writeStatus(_ status: some Encodable, to key: ObjectKey) async throws {
        let encoded = try JSONValue(encoding: status)
        _ = try await modify(key, subresource: .status, createIfMissing: false, dryRun: false) { current in
            guard var document = current else { throw APIError.notFound(key.kind, key.name) }
            document["status"] = encoded
            return document
        }
    }

    /// Adds or removes one finalizer (a no-op write when it is already so).
    func setFinalizer(_ finalizer: String, present: Bool, on key: ObjectKey) async throws {
        _ = try await modify(key, subresource: .main, createIfMissing: false, dryRun: false) { current in
            guard var document = current else { throw APIError.notFound(key.kind, key.name) }
            var finalizers = (document["metadata"]?["finalizers"]?.arrayValue ?? []).filter { $0 != .string(finalizer) }
            if present { finalizers.append(.string(finalizer)) }
            document["metadata"]?["finalizers"] = .array(finalizers)
            return document
        }
    }
}
