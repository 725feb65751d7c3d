import DeployerCore
import DeployerModel

/// A request the permission rules refused; the API answers `error` and audits the denial.
struct AccessDenied: Error {
    let error: APIError
}

/// The permission rules (`AccessRules`) applied to the API's reads and writes.
extension KubeAPI {
    /// The permissions a deployment's visibility depends on, read from the store; empty when
    /// the rules will not need them (global admins, other kinds).
    func accessContext(_ caller: Caller, kind: ResourceKind, namespace: String?) async throws -> AccessContext {
        try await AccessContext.read(for: caller, kind: kind, namespace: namespace, in: store)
    }

    /// Answers 404 for an object the caller may not see.
    func requireVisible(_ caller: Caller, _ object: StoredObject) async throws {
        guard !caller.isGlobalAdmin else { return }
        let context = try await accessContext(caller, kind: object.key.kind, namespace: object.key.namespace)
        guard AccessRules.canSee(caller, object.key.kind, object.document, context: context) else {
            throw AccessDenied(error: .notFound(object.key.kind, object.key.name))
        }
    }

    /// Throws the answer to a refused change: 404 for what the caller may not see, else 403.
    static func enforce(_ decision: AccessDecision, caller: Caller, verb: String, kind: ResourceKind, name: String) throws {
        switch decision {
        case .allowed:
            return
        case .hidden:
            throw AccessDenied(error: .notFound(kind, name))
        case .forbidden(let reason):
            throw AccessDenied(
                error: .forbidden("\(kind.plural).\(ResourceKind.group) \"\(name)\" is forbidden: user \"\(caller.user)\" cannot \(verb) it: \(reason)"))
        }
    }
}
