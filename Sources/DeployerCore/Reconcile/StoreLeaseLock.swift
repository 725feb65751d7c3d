import DeployerModel
import Foundation
import ReconcileKit

/// A `LeaseLock` over a `Lease` object in a `ResourceStore` (embedded mode). Writes are
/// optimistic on the object's resource version; a lost race is a `LeaseConflict`.
public struct StoreLeaseLock: LeaseLock {
    let store: any ResourceStore
    let key: ObjectKey

    public init(store: any ResourceStore, namespace: String = Lease.controllerNamespace, name: String = Lease.controllerName) {
        self.store = store
        key = ObjectKey(.lease, namespace: namespace, name: name)
    }

    public func get() async throws -> (record: LeaseRecord, version: String)? {
        guard let stored = try await store.getIfPresent(key) else { return nil }
        let lease = try stored.document.decode(Lease.self)
        let time = { (text: String?) in text.flatMap(Lease.date(fromMicroTime:)) ?? Date(timeIntervalSince1970: 0) }
        let record = LeaseRecord(
            holderIdentity: lease.spec.holderIdentity ?? "", leaseDuration: .seconds(lease.spec.leaseDurationSeconds ?? 0),
            acquireTime: time(lease.spec.acquireTime), renewTime: time(lease.spec.renewTime),
            leaseTransitions: lease.spec.leaseTransitions ?? 0)
        return (record, String(stored.resourceVersion))
    }

    public func create(_ record: LeaseRecord) async throws {
        let lease = Lease(metadata: ObjectMeta(name: key.name, namespace: key.namespace), spec: Self.spec(record))
        do {
            _ = try await store.create(try JSONValue(encoding: lease), kind: .lease, dryRun: false)
        } catch let error as APIError where error.code == 409 {
            throw LeaseConflict()
        }
    }

    public func update(_ record: LeaseRecord, version: String) async throws {
        let spec = try JSONValue(encoding: Self.spec(record))
        _ = try await store.modify(key, subresource: .main, createIfMissing: false, dryRun: false) { current in
            guard var document = current, document["metadata"]?["resourceVersion"]?.stringValue == version else {
                throw LeaseConflict()
            }
            document["spec"] = spec
            return document
        }
    }

    private static func spec(_ record: LeaseRecord) -> Lease.Spec {
        Lease.Spec(
            holderIdentity: record.holderIdentity, leaseDurationSeconds: Int(record.leaseDuration.components.seconds),
            acquireTime: Lease.microTime(record.acquireTime), renewTime: Lease.microTime(record.renewTime),
            leaseTransitions: record.leaseTransitions)
    }
}
