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
        return (LeaseRecord(try stored.document.decode(Lease.self).spec), String(stored.resourceVersion))
    }

    public func create(_ record: LeaseRecord) async throws {
        let lease = Lease(metadata: ObjectMeta(name: key.name, namespace: key.namespace), spec: Lease.Spec(record))
        do {
            _ = try await store.create(try JSONValue(encoding: lease), kind: .lease, dryRun: false)
        } catch let error as APIError where error.code == 409 {
            throw LeaseConflict()
        }
    }

    public func update(_ record: LeaseRecord, version: String) async throws {
        let spec = try JSONValue(encoding: Lease.Spec(record))
        _ = try await store.modify(key, subresource: .main, createIfMissing: false, dryRun: false) { current in
            guard var document = current, document["metadata"]?["resourceVersion"]?.stringValue == version else {
                throw LeaseConflict()
            }
            document["spec"] = spec
            return document
        }
    }

}

extension Lease.Spec {
    /// The spec that records `record` (a coordination.k8s.io/v1 Lease's spec has the same shape).
    public init(_ record: LeaseRecord) {
        self.init(
            holderIdentity: record.holderIdentity, leaseDurationSeconds: Int(record.leaseDuration.components.seconds),
            acquireTime: Lease.microTime(record.acquireTime), renewTime: Lease.microTime(record.renewTime),
            leaseTransitions: record.leaseTransitions)
    }
}

extension LeaseRecord {
    /// The record a lease's spec holds (times it lacks are the epoch).
    public init(_ spec: Lease.Spec) {
        let time = { (text: String?) in text.flatMap(Lease.date(fromMicroTime:)) ?? Date(timeIntervalSince1970: 0) }
        self.init(
            holderIdentity: spec.holderIdentity ?? "", leaseDuration: .seconds(spec.leaseDurationSeconds ?? 0), acquireTime: time(spec.acquireTime),
            renewTime: time(spec.renewTime), leaseTransitions: spec.leaseTransitions ?? 0)
    }
}
