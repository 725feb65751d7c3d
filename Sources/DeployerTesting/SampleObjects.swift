import DeployerCore
import DeployerModel

/// Small valid objects for tests.
public enum SampleObjects {
    /// A ServiceDeployment on a static infrastructure at one version.
    public static func deployment(_ name: String, version: String = "v1", labels: [String: String] = [:], namespace: String = "default")
        -> JSONValue
    {
        var metadata: JSONValue = ["name": .string(name), "namespace": .string(namespace)]
        if !labels.isEmpty { metadata["labels"] = .object(labels.mapValues { .string($0) }) }
        return [
            "apiVersion": .string(ResourceKind.apiVersion), "kind": "ServiceDeployment", "metadata": metadata,
            "spec": ["service": "churn", "infrastructure": "dev-static", "version": .string(version)],
        ]
    }

    /// Creates `objects` (kind and a document without apiVersion, kind or namespace) in `store`.
    public static func create(_ objects: [(ResourceKind, JSONValue)], in store: any ResourceStore, namespace: String = "default") async throws {
        for (kind, object) in objects {
            var document = object
            document["apiVersion"] = .string(ResourceKind.apiVersion)
            document["kind"] = .string(kind.kind)
            document["metadata"]?["namespace"] = .string(namespace)
            _ = try await store.create(document, kind: kind, dryRun: false)
        }
    }

    /// Creates `document`, or replaces the stored object of that key keeping its resource
    /// version and finalizers (as a user's edit would).
    public static func createOrReplace(_ document: JSONValue, kind: ResourceKind, in store: any ResourceStore) async throws {
        var document = document
        let key = ObjectKey(kind, namespace: document["metadata"]?["namespace"]?.stringValue ?? "default", name: document["metadata"]?["name"]?.stringValue ?? "")
        if let current = try? await store.get(key) {
            document["metadata"]?["resourceVersion"] = current.document["metadata"]?["resourceVersion"]
            document["metadata"]?["finalizers"] = current.document["metadata"]?["finalizers"]
            _ = try await store.update(document, kind: kind)
        } else {
            _ = try await store.create(document, kind: kind, dryRun: false)
        }
    }

    /// A Stage.
    public static func stage(_ name: String, order: Int64 = 10) -> JSONValue {
        [
            "apiVersion": .string(ResourceKind.apiVersion), "kind": "Stage",
            "metadata": ["name": .string(name), "namespace": "default"],
            "spec": ["displayName": .string(name.capitalized), "order": .int(order)],
        ]
    }

    /// A Ready condition as a controller writes it.
    public static func readyCondition(generation: Int64, status: String = "True") -> JSONValue {
        [
            "type": "Ready", "status": .string(status), "reason": "RolloutComplete", "message": "ready",
            "observedGeneration": .int(generation), "lastTransitionTime": "2026-11-28T10:00:00Z",
        ]
    }
}

import Foundation
