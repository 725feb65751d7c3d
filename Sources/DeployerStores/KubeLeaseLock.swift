import CloudHTTP
import DeployerCore
import DeployerModel
import Foundation
import NIOHTTP1
import ReconcileKit

/// A `LeaseLock` over a `coordination.k8s.io/v1` Lease in a cluster (client-go's `LeaseLock`):
/// writes carry the resource version they read, and a 409 is a lost race.
public struct KubeLeaseLock: LeaseLock {
    let client: KubeClient
    let namespace: String
    let name: String

    public init(client: KubeClient, namespace: String, name: String = Lease.controllerName) {
        self.client = client
        self.namespace = namespace
        self.name = name
    }

    var collection: String { "/apis/coordination.k8s.io/v1/namespaces/\(namespace)/leases" }

    public func get() async throws -> (record: LeaseRecord, version: String)? {
        let response = try await client.send(.GET, "\(collection)/\(name)")
        if response.status == 404 { return nil }
        guard response.status == 200 else { throw response.error }
        let document = try response.json()
        let spec = try (document["spec"] ?? [:]).decode(Lease.Spec.self)
        return (LeaseRecord(spec), document["metadata"]?["resourceVersion"]?.stringValue ?? "")
    }

    public func create(_ record: LeaseRecord) async throws {
        try await write(.POST, collection, document(record, version: nil))
    }

    public func update(_ record: LeaseRecord, version: String) async throws {
        try await write(.PUT, "\(collection)/\(name)", document(record, version: version))
    }

    private func document(_ record: LeaseRecord, version: String?) throws -> JSONValue {
        var metadata: JSONValue = ["name": .string(name), "namespace": .string(namespace)]
        if let version { metadata["resourceVersion"] = .string(version) }
        return ["apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": metadata, "spec": try JSONValue(encoding: Lease.Spec(record))]
    }

    private func write(_ method: HTTPMethod, _ path: String, _ document: JSONValue) async throws {
        let response = try await client.send(method, path, body: document.serialized())
        if response.status == 409 { throw LeaseConflict() }
        guard (200..<300).contains(response.status) else { throw response.error }
    }
}
