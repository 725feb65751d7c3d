import DeployerModel

/// A parsed `/apis/apideployer.dev/v1alpha1/...` path.
struct ResourcePath: Sendable {
    let kind: ResourceKind
    /// nil for all-namespaces collections.
    let namespace: String?
    let name: String?
    let subresource: String?

    /// Parses the part after the group version; nil when it names nothing we serve.
    static func parse(_ segments: ArraySlice<Substring>) -> ResourcePath? {
        var rest = segments
        var namespace: String?
        if rest.first == "namespaces", rest.count >= 3 {
            namespace = String(rest[rest.startIndex + 1])
            rest = rest.dropFirst(2)
        }
        guard let plural = rest.first, let kind = ResourceKind.byPlural(String(plural)) else { return nil }
        rest = rest.dropFirst()
        let name = rest.first.map(String.init)
        rest = rest.dropFirst()
        let subresource = rest.first.map(String.init)
        guard rest.count <= 1 else { return nil }
        if subresource != nil, subresource != "status" || !kind.hasStatus { return nil }
        if name != nil, namespace == nil { return nil }
        return ResourcePath(kind: kind, namespace: namespace, name: name, subresource: subresource)
    }
}
