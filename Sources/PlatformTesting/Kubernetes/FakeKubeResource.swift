import DeployerModel

/// One resource type the fake API server serves: built in, or defined by a CRD.
public struct FakeKubeResource: Hashable, Sendable {
    public var group: String
    public var version: String
    public var plural: String
    public var singular: String
    public var kind: String
    public var namespaced: Bool
    public var hasStatus: Bool
    public var shortNames: [String] = []
    /// The CRD's schema for this version (nil for built-ins).
    var schema: JSONValue?
    /// Whether `metadata.generation` is kept (spec changes bump it).
    var keepsGeneration = true

    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    /// The key objects are stored under: one per group and resource, whatever the version.
    var storageKey: String { "\(plural).\(group)" }
    var isCustom: Bool { schema != nil }
    /// `deployments.apps`, `services` (for messages).
    var qualified: String { group.isEmpty ? plural : "\(plural).\(group)" }

    static func builtIn(_ group: String, _ version: String, _ plural: String, _ kind: String, namespaced: Bool = true, status: Bool = false, short: [String] = [], generation: Bool = false) -> FakeKubeResource {
        FakeKubeResource(
            group: group, version: version, plural: plural, singular: kind.lowercased(), kind: kind, namespaced: namespaced, hasStatus: status,
            shortNames: short, schema: nil, keepsGeneration: generation)
    }

    /// The types every cluster has (the ones the project reads or writes).
    static let builtIns: [FakeKubeResource] = [
        .builtIn("", "v1", "namespaces", "Namespace", namespaced: false, status: true, short: ["ns"]),
        .builtIn("", "v1", "services", "Service", status: true, short: ["svc"]),
        .builtIn("", "v1", "secrets", "Secret"),
        .builtIn("", "v1", "configmaps", "ConfigMap", short: ["cm"]),
        .builtIn("", "v1", "events", "Event", short: ["ev"]),
        .builtIn("", "v1", "pods", "Pod", status: true, short: ["po"]),
        .builtIn("", "v1", "serviceaccounts", "ServiceAccount", short: ["sa"]),
        .builtIn("apps", "v1", "deployments", "Deployment", status: true, short: ["deploy"], generation: true),
        .builtIn("networking.k8s.io", "v1", "ingresses", "Ingress", status: true, short: ["ing"], generation: true),
        .builtIn("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", status: true, short: ["hpa"], generation: true),
        .builtIn("coordination.k8s.io", "v1", "leases", "Lease"),
        .builtIn("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", status: true, short: ["pdb"], generation: true),
        .builtIn("rbac.authorization.k8s.io", "v1", "roles", "Role"),
        .builtIn("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding"),
        .builtIn("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", namespaced: false),
        .builtIn("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", namespaced: false),
        .builtIn("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations", "ValidatingWebhookConfiguration", namespaced: false, generation: true),
        .builtIn("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", namespaced: false, status: true, short: ["crd", "crds"], generation: true),
    ]

    /// The resources a CRD defines: one per served version.
    static func defined(by crd: JSONValue) -> [FakeKubeResource] {
        let spec = crd["spec"] ?? [:]
        guard let group = spec["group"]?.stringValue, let names = spec["names"], let plural = names["plural"]?.stringValue,
            let kind = names["kind"]?.stringValue
        else { return [] }
        return (spec["versions"]?.arrayValue ?? []).compactMap { version in
            guard let name = version["name"]?.stringValue, version["served"]?.boolValue != false else { return nil }
            return FakeKubeResource(
                group: group, version: name, plural: plural, singular: names["singular"]?.stringValue ?? kind.lowercased(), kind: kind,
                namespaced: spec["scope"]?.stringValue != "Cluster", hasStatus: version["subresources"]?["status"] != nil,
                shortNames: (names["shortNames"]?.arrayValue ?? []).compactMap(\.stringValue),
                schema: version["schema"]?["openAPIV3Schema"] ?? ["type": "object", "x-kubernetes-preserve-unknown-fields": true])
        }
    }

    /// Its entry in an `APIResourceList`.
    var discoveryEntry: [JSONValue] {
        var main: JSONValue = [
            "name": .string(plural), "singularName": .string(singular), "namespaced": .bool(namespaced), "kind": .string(kind),
            "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"],
        ]
        if !shortNames.isEmpty { main["shortNames"] = .array(shortNames.map { .string($0) }) }
        var entries = [main]
        if hasStatus {
            entries.append(["name": .string(plural + "/status"), "singularName": "", "namespaced": .bool(namespaced), "kind": .string(kind), "verbs": ["get", "patch", "update"]])
        }
        return entries
    }
}
