import DeployerModel

extension ObjectStore {
    /// Applies one write to the overlay, assigning the next resource version; records what to
    /// journal. Pure with respect to committed state.
    func apply(_ operation: WriteOperation, overlay: inout Overlay, records: inout [JournalRecord]) throws -> WriteResult {
        switch operation {
        case .create(let kind, let document, let dryRun):
            let namespace = document["metadata"]?["namespace"]?.stringValue ?? "default"
            let prepared = try rules.create(document, kind: kind, namespace: namespace)
            let key = ObjectKey(kind, namespace: namespace, name: prepared["metadata"]?["name"]?.stringValue ?? "")
            if current(key, overlay: overlay) != nil { throw APIError.alreadyExists(kind, key.name) }
            return WriteResult(object: record(.added, prepared, kind: kind, dryRun: dryRun, overlay: &overlay, records: &records), removed: false)

        case .modify(let key, let subresource, let createIfMissing, let dryRun, let transform):
            guard let existing = current(key, overlay: overlay) else {
                guard createIfMissing else { throw APIError.notFound(key.kind, key.name) }
                var document = try transform(nil)
                document["metadata"]?["namespace"] = .string(key.namespace)
                let prepared = try rules.create(document, kind: key.kind, namespace: key.namespace)
                return WriteResult(
                    object: record(.added, prepared, kind: key.kind, dryRun: dryRun, overlay: &overlay, records: &records), removed: false)
            }
            let currentDocument = existing.document
            let incoming = try transform(currentDocument)
            let change = try rules.update(current: currentDocument, incoming: incoming, kind: key.kind, subresource: subresource)
            return stage(change, existing: existing, dryRun: dryRun, overlay: &overlay, records: &records)

        case .delete(let key, let preconditions, let dryRun):
            guard let existing = current(key, overlay: overlay) else { throw APIError.notFound(key.kind, key.name) }
            let change = try rules.delete(current: existing.document, kind: key.kind, preconditions: preconditions)
            return stage(change, existing: existing, dryRun: dryRun, overlay: &overlay, records: &records)
        }
    }

    /// Stages what the write rules decided for an existing object.
    private func stage(
        _ change: WriteRules.Change, existing: StoredObject, dryRun: Bool, overlay: inout Overlay, records: inout [JournalRecord]
    ) -> WriteResult {
        let kind = existing.key.kind
        switch change {
        case .unchanged:
            return WriteResult(object: existing, removed: false)
        case .store(let document):
            return WriteResult(object: record(.modified, document, kind: kind, dryRun: dryRun, overlay: &overlay, records: &records), removed: false)
        case .remove(let document):
            return WriteResult(object: record(.deleted, document, kind: kind, dryRun: dryRun, overlay: &overlay, records: &records), removed: true)
        }
    }

    private func current(_ key: ObjectKey, overlay: Overlay) -> StoredObject? {
        if let change = overlay.changes[key] { return change }
        return objects[key.kind]?[key]
    }

    /// Stamps the next resource version and stages the change (unless it is a dry run).
    private func record(
        _ type: WatchEventType, _ document: JSONValue, kind: ResourceKind, dryRun: Bool, overlay: inout Overlay,
        records: inout [JournalRecord]
    ) -> StoredObject {
        var stamped = document
        if dryRun {
            return StoredObject(kind: kind, document: stamped, resourceVersion: lastResourceVersion)
        }
        lastResourceVersion += 1
        stamped["metadata"]?["resourceVersion"] = .string(String(lastResourceVersion))
        let object = StoredObject(kind: kind, document: stamped, resourceVersion: lastResourceVersion)
        overlay.changes[object.key] = type == .deleted ? .some(nil) : object
        records.append(JournalRecord(event: StoreEvent(type: type, object: object)))
        return object
    }
}
