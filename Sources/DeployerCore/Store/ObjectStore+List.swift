import DeployerModel
import Foundation

/// Pages of lists in progress: a continue token reads the same snapshot as its first page.
struct ListSnapshots {
    struct Snapshot {
        let items: [StoredObject]
        let resourceVersion: UInt64
        let created: Date
    }

    static let lifetime: TimeInterval = 300
    static let capacity = 64
    var snapshots: [String: Snapshot] = [:]

    mutating func store(_ snapshot: Snapshot) -> String {
        if snapshots.count >= Self.capacity, let oldest = snapshots.min(by: { $0.value.created < $1.value.created }) {
            snapshots[oldest.key] = nil
        }
        let token = UUID().uuidString
        snapshots[token] = snapshot
        return token
    }
}

extension ObjectStore {
    public func list(_ kind: ResourceKind, _ query: ListQuery) throws -> ListResult {
        let snapshot: ListSnapshots.Snapshot
        var offset = 0
        if let token = query.continueToken, !token.isEmpty {
            let parts = token.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let start = Int(parts[1]), let found = listSnapshots.snapshots[String(parts[0])],
                now().timeIntervalSince(found.created) < ListSnapshots.lifetime
            else {
                throw APIError.gone(
                    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter."
                )
            }
            snapshot = found
            offset = start
        } else {
            let items = (objects[kind] ?? [:]).values.filter(query.matches).sorted { $0.key < $1.key }
            snapshot = ListSnapshots.Snapshot(items: items, resourceVersion: lastResourceVersion, created: now())
        }
        guard let limit = query.limit, limit > 0, snapshot.items.count - offset > limit else {
            return ListResult(
                items: Array(snapshot.items[offset...]), resourceVersion: snapshot.resourceVersion, continueToken: nil,
                remainingItemCount: nil)
        }
        let end = offset + limit
        let snapshotID: String
        if let token = query.continueToken, let id = token.split(separator: ":").first {
            snapshotID = String(id)
        } else {
            snapshotID = listSnapshots.store(snapshot)
        }
        return ListResult(
            items: Array(snapshot.items[offset..<end]), resourceVersion: snapshot.resourceVersion,
            continueToken: "\(snapshotID):\(end)", remainingItemCount: snapshot.items.count - end)
    }
}
