import DeployerModel

/// A Kubernetes validating admission webhook (`admission.k8s.io/v1` AdmissionReview) that
/// applies the same `AccessRules` as the deployer's API to our kinds, with the request's
/// `userInfo` as the caller. In a cluster, Kubernetes RBAC lets someone write ServiceDeployments
/// at all; this decides *which* ones, with the permissions the Infrastructures and
/// PublishedServices declare.
///
/// Objects applied by a GitOps tool arrive under its service account
/// (`system:serviceaccount:argocd:argocd-application-controller`, groups
/// `system:serviceaccounts` and `system:serviceaccounts:argocd`; Flux's kustomize-controller
/// likewise in `flux-system`): name that group in the permissions of what the repository may
/// deploy, as for a CI identity — the repository's review is then the gate. The controller's own
/// service account writes status and finalizers, so its group is one of the admin groups.
public struct AdmissionReviewer: Sendable {
    /// Where the deployer's server answers reviews (`POST`, HTTPS like the rest of its API).
    public static let path = "/admission/v1/review"

    let store: any ResourceStore
    let adminGroups: Set<String>

    public init(store: any ResourceStore, adminGroups: Set<String> = Caller.defaultAdminGroups) {
        self.store = store
        self.adminGroups = adminGroups
    }

    /// The AdmissionReview answering `review` (same `uid`); a malformed review is refused.
    public func answer(_ review: JSONValue) async -> JSONValue {
        let request = review["request"] ?? .null
        let uid = request["uid"] ?? .string("")
        let (allowed, code, message) = await decide(request)
        var response: JSONValue = ["uid": uid, "allowed": .bool(allowed)]
        if !allowed { response["status"] = ["code": .int(Int64(code)), "message": .string(message), "reason": code == 400 ? "BadRequest" : "Forbidden"] }
        return ["apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response]
    }

    private func decide(_ request: JSONValue) async -> (allowed: Bool, code: Int, message: String) {
        guard request["kind"]?["group"]?.stringValue == ResourceKind.group, let kind = request["kind"]?["kind"]?.stringValue.flatMap(ResourceKind.lookup),
            let operation = request["operation"]?.stringValue, let user = request["userInfo"]?["username"]?.stringValue
        else {
            return (false, 400, "not an AdmissionReview request for a \(ResourceKind.group) object with a user")
        }
        let groups = (request["userInfo"]?["groups"]?.arrayValue ?? []).compactMap(\.stringValue)
        let caller = Caller(user: user, groups: groups, adminGroups: adminGroups)
        let object = request["object"] ?? .null
        let old = request["oldObject"] ?? .null
        let change: AccessChange
        switch operation {
        case "CREATE": change = .create(object)
        case "UPDATE": change = .update(before: old, after: object, statusOnly: request["subResource"]?.stringValue == "status")
        case "DELETE": change = .delete(old)
        default: return (true, 200, "")
        }
        let namespace = request["namespace"]?.stringValue ?? object["metadata"]?["namespace"]?.stringValue ?? "default"
        let context: AccessContext
        do {
            context = try await AccessContext.read(for: caller, kind: kind, namespace: namespace, in: store)
        } catch {
            return (false, 500, "the permissions could not be read: \(error)")
        }
        let name = request["name"]?.stringValue ?? object["metadata"]?["name"]?.stringValue ?? ""
        switch AccessRules.check(caller, kind, change, context: context) {
        case .allowed:
            return (true, 200, "")
        case .hidden:
            return (false, 403, "\(kind.qualifiedResource) \"\(name)\" is forbidden: user \"\(user)\" may not see it")
        case .forbidden(let reason):
            return (false, 403, "\(kind.qualifiedResource) \"\(name)\" is forbidden: user \"\(user)\" cannot \(operation.lowercased()) it: \(reason)")
        }
    }
}

extension AccessContext {
    /// The permissions `caller`'s access to a `kind` object in `namespace` (nil: every
    /// namespace) depends on, read from `store`: the infrastructures' and services' for a
    /// deployment, nothing for other kinds or for global admins.
    public static func read(for caller: Caller, kind: ResourceKind, namespace: String?, in store: any ResourceStore) async throws -> AccessContext {
        guard !caller.isGlobalAdmin, kind == .serviceDeployment else { return AccessContext() }
        async let infrastructures = store.list(.infrastructure, ListQuery(namespace: namespace))
        async let services = store.list(.publishedService, ListQuery(namespace: namespace))
        return AccessContext(
            infrastructurePermissions: permissions(try await infrastructures.items), servicePermissions: permissions(try await services.items))
    }

    /// `namespace/name` → `spec.permissions` of listed objects.
    static func permissions(_ items: [StoredObject]) -> [String: JSONValue] {
        Dictionary(
            items.map { (key($0.key.namespace, $0.key.name), $0.document["spec"]?["permissions"] ?? .null) },
            uniquingKeysWith: { first, _ in first })
    }
}
