import DeployerModel

/// Discovery documents: `/version`, `/api`, `/apis`, the group and the group version.
extension KubeAPI {
    static let aggregatedContentType = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

    func version() -> APIResponse {
        .json([
            "major": "1", "minor": "32", "gitVersion": "v1.32.4-apideployer", "gitCommit": "",
            "gitTreeState": "clean", "buildDate": "2026-11-28T00:00:00Z", "goVersion": "swift6",
            "compiler": "swift", "platform": "linux/amd64",
        ])
    }

    /// `/api`: we serve no core group; clients still need a valid answer.
    func coreDiscovery(_ request: APIRequest) -> APIResponse {
        if wantsAggregated(request) {
            return .json(
                ["kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": [:], "items": []],
                contentType: Self.aggregatedContentType)
        }
        return .json(["kind": "APIVersions", "versions": [], "serverAddressByClientCIDRs": []])
    }

    func groupsDiscovery(_ request: APIRequest) -> APIResponse {
        if wantsAggregated(request) {
            let item: JSONValue = [
                "metadata": ["name": .string(ResourceKind.group)],
                "versions": [
                    [
                        "version": .string(ResourceKind.version), "freshness": "Current",
                        "resources": .array(ResourceKind.all.map(aggregatedResource)),
                    ]
                ],
            ]
            return .json(
                ["kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": [:], "items": [item]],
                contentType: Self.aggregatedContentType)
        }
        return .json(["kind": "APIGroupList", "apiVersion": "v1", "groups": [groupDocument]])
    }

    var groupDocument: JSONValue {
        let version: JSONValue = ["groupVersion": .string(ResourceKind.apiVersion), "version": .string(ResourceKind.version)]
        return ["name": .string(ResourceKind.group), "versions": [version], "preferredVersion": version]
    }

    func groupVersionDiscovery() -> APIResponse {
        var resources: [JSONValue] = []
        for kind in ResourceKind.all {
            resources.append([
                "name": .string(kind.plural), "singularName": .string(kind.singular), "namespaced": true,
                "kind": .string(kind.kind), "verbs": .array(Self.verbs.map { .string($0) }),
                "shortNames": .array(kind.shortNames.map { .string($0) }), "categories": ["apideployer"],
            ])
            if kind.hasStatus {
                resources.append([
                    "name": .string(kind.plural + "/status"), "singularName": "", "namespaced": true,
                    "kind": .string(kind.kind), "verbs": ["get", "patch", "update"],
                ])
            }
        }
        return .json([
            "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(ResourceKind.apiVersion),
            "resources": .array(resources),
        ])
    }

    static let verbs = ["create", "delete", "get", "list", "patch", "update", "watch"]

    private func aggregatedResource(_ kind: ResourceKind) -> JSONValue {
        let responseKind: JSONValue = [
            "group": .string(ResourceKind.group), "version": .string(ResourceKind.version), "kind": .string(kind.kind),
        ]
        var resource: JSONValue = [
            "resource": .string(kind.plural), "singularResource": .string(kind.singular), "scope": "Namespaced",
            "responseKind": responseKind, "verbs": .array(Self.verbs.map { .string($0) }),
            "shortNames": .array(kind.shortNames.map { .string($0) }), "categories": ["apideployer"],
        ]
        if kind.hasStatus {
            resource["subresources"] = [["subresource": "status", "responseKind": responseKind, "verbs": ["get", "patch", "update"]]]
        }
        return resource
    }

    private func wantsAggregated(_ request: APIRequest) -> Bool {
        (request.header("accept") ?? "").contains("as=APIGroupDiscoveryList")
    }
}
