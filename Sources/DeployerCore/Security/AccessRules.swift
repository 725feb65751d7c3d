import DeployerModel

/// Who is asking, as the permission rules see it.
public struct Caller: Sendable, Hashable {
    /// Groups every authenticated caller belongs to.
    public static let implicitGroups: Set<String> = ["everyone", "system:authenticated"]
    /// Groups whose members are global admins unless the server names others.
    public static let defaultAdminGroups: Set<String> = ["system:masters"]

    public let user: String
    /// The caller's groups, the implicit ones included.
    public let groups: Set<String>
    public let isGlobalAdmin: Bool
    /// The global admin acting as this caller (Kubernetes impersonation), for the audit trail.
    public let impersonator: String?

    public init(
        user: String, groups: some Sequence<String>, adminGroups: Set<String> = Caller.defaultAdminGroups, impersonator: String? = nil
    ) {
        self.user = user
        self.impersonator = impersonator
        self.groups = Set(groups).union(Self.implicitGroups)
        isGlobalAdmin = !self.groups.isDisjoint(with: adminGroups)
    }
}

/// What a caller may do with one infrastructure. Admin implies Deploy and View; Deploy implies View.
public struct InfrastructureRights: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    public static let view = InfrastructureRights(rawValue: 1)
    public static let deploy = InfrastructureRights(rawValue: 2)
    public static let admin = InfrastructureRights(rawValue: 4)
    public static let all: InfrastructureRights = [.view, .deploy, .admin]
}

/// What a caller may do with one published service. Admin implies the others; Write and
/// Deploy imply Read.
public struct ServiceRights: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    public static let read = ServiceRights(rawValue: 1)
    public static let write = ServiceRights(rawValue: 2)
    public static let deploy = ServiceRights(rawValue: 4)
    public static let admin = ServiceRights(rawValue: 8)
    public static let all: ServiceRights = [.read, .write, .deploy, .admin]
}

/// The outcome of a permission check. `hidden` is answered 404 (the caller may not know the
/// object exists); `forbidden` 403 with the reason.
public enum AccessDecision: Sendable, Equatable {
    case allowed
    case hidden
    case forbidden(String)
}

/// A change a caller asks for. Documents are whole objects; `before` is the stored one.
public enum AccessChange: Sendable {
    case create(JSONValue)
    case update(before: JSONValue, after: JSONValue, statusOnly: Bool)
    case delete(JSONValue)
}

/// The permission rules of PRODUCT.md, as pure functions over documents: the API server and
/// a Kubernetes admission webhook both call them.
///
/// - Stages: everyone reads; only global admins write.
/// - Infrastructures: View to see; Admin to edit; only global admins create or delete.
/// - Published services: Read to see; Write to change `spec.versions` (and metadata);
///   Admin for anything else in the spec and to delete; any caller may create one that gives
///   one of their groups Admin.
/// - Deployments: Read on the service and View on the infrastructure to see; Deploy on both
///   (before and after the change) to create, update or delete.
/// - Secrets and leases: global admins only. Status is written by global admins (the controller).
/// - Whatever would hand the controller's powers to someone else stays with global admins:
///   `exec` hooks (they run on the controller's machine), an infrastructure's targets, endpoints
///   and secret references (where the controller sends node keys and credentials), and a JWKS
///   taken from a secret (its content is sent to the nodes).
public enum AccessRules {
    /// The caller's rights from an infrastructure's `spec.permissions`.
    public static func infrastructureRights(_ caller: Caller, _ permissions: JSONValue?) -> InfrastructureRights {
        if caller.isGlobalAdmin { return .all }
        var rights: InfrastructureRights = []
        for entry in grants(caller, permissions) {
            if entry["admin"]?.boolValue == true { rights.formUnion(.all) }
            if entry["deploy"]?.boolValue == true { rights.formUnion([.deploy, .view]) }
            if entry["view"]?.boolValue == true { rights.insert(.view) }
        }
        return rights
    }

    /// The caller's rights from a published service's `spec.permissions`.
    public static func serviceRights(_ caller: Caller, _ permissions: JSONValue?) -> ServiceRights {
        if caller.isGlobalAdmin { return .all }
        var rights: ServiceRights = []
        for entry in grants(caller, permissions) {
            if entry["admin"]?.boolValue == true { rights.formUnion(.all) }
            if entry["write"]?.boolValue == true { rights.formUnion([.write, .read]) }
            if entry["deploy"]?.boolValue == true { rights.formUnion([.deploy, .read]) }
            if entry["read"]?.boolValue == true { rights.insert(.read) }
        }
        return rights
    }

    /// Whether the caller may see `object` (get, list, watch).
    public static func canSee(_ caller: Caller, _ kind: ResourceKind, _ object: JSONValue, context: AccessContext) -> Bool {
        if caller.isGlobalAdmin { return true }
        switch kind {
        case .stage: return true
        case .infrastructure: return infrastructureRights(caller, object["spec"]?["permissions"]).contains(.view)
        case .publishedService: return serviceRights(caller, object["spec"]?["permissions"]).contains(.read)
        case .serviceDeployment:
            let (service, infrastructure) = deploymentRights(caller, object, context: context)
            return service.contains(.read) && infrastructure.contains(.view)
        default: return false
        }
    }

    /// Whether the caller may make `change` to an object of `kind`.
    public static func check(_ caller: Caller, _ kind: ResourceKind, _ change: AccessChange, context: AccessContext) -> AccessDecision {
        if caller.isGlobalAdmin { return .allowed }
        switch change {
        case .create(let object):
            return checkCreate(caller, kind, object, context: context)
        case .update(let before, let after, let statusOnly):
            guard canSee(caller, kind, before, context: context) else { return .hidden }
            if statusOnly { return .forbidden("only the controller writes the status of \(kind.plural)") }
            return checkUpdate(caller, kind, before, after, context: context)
        case .delete(let object):
            guard canSee(caller, kind, object, context: context) else { return .hidden }
            return checkDelete(caller, kind, object, context: context)
        }
    }

    private static func checkCreate(_ caller: Caller, _ kind: ResourceKind, _ object: JSONValue, context: AccessContext) -> AccessDecision {
        switch kind {
        case .publishedService:
            if let refusal = controllerPowers(kind, before: nil, after: object) { return refusal }
            if serviceRights(caller, object["spec"]?["permissions"]).contains(.admin) { return .allowed }
            return .forbidden("a new published service must give one of your groups admin in spec.permissions")
        case .serviceDeployment:
            return controllerPowers(kind, before: nil, after: object) ?? needsDeploy(caller, object, context: context)
        default:
            return .forbidden("only global admins create \(kind.plural)")
        }
    }

    private static func checkUpdate(
        _ caller: Caller, _ kind: ResourceKind, _ before: JSONValue, _ after: JSONValue, context: AccessContext
    ) -> AccessDecision {
        switch kind {
        case .infrastructure:
            guard infrastructureRights(caller, before["spec"]?["permissions"]).contains(.admin) else {
                return .forbidden("editing an infrastructure needs admin on it")
            }
            return controllerPowers(kind, before: before, after: after) ?? .allowed
        case .publishedService:
            let rights = serviceRights(caller, before["spec"]?["permissions"])
            if rights.contains(.admin) { return controllerPowers(kind, before: before, after: after) ?? .allowed }
            var beforeSpec = before["spec"]
            var afterSpec = after["spec"]
            beforeSpec?["versions"] = nil
            afterSpec?["versions"] = nil
            guard beforeSpec == afterSpec else { return .forbidden("changing a published service beyond spec.versions needs admin on it") }
            return rights.contains(.write) ? .allowed : .forbidden("changing the versions of a published service needs write on it")
        case .serviceDeployment:
            let decision = needsDeploy(caller, before, context: context)
            guard decision == .allowed else { return decision }
            return controllerPowers(kind, before: before, after: after) ?? needsDeploy(caller, after, context: context)
        default:
            return .forbidden("only global admins change \(kind.plural)")
        }
    }

    private static func checkDelete(_ caller: Caller, _ kind: ResourceKind, _ object: JSONValue, context: AccessContext) -> AccessDecision {
        switch kind {
        case .publishedService:
            return serviceRights(caller, object["spec"]?["permissions"]).contains(.admin)
                ? .allowed : .forbidden("deleting a published service needs admin on it")
        case .serviceDeployment:
            return needsDeploy(caller, object, context: context)
        default:
            return .forbidden("only global admins delete \(kind.plural)")
        }
    }

    /// The refusal of a change by someone other than a global admin that touches what only
    /// they may set (see the type's documentation); nil when there is none.
    private static func controllerPowers(_ kind: ResourceKind, before: JSONValue?, after: JSONValue) -> AccessDecision? {
        let (old, new) = (before?["spec"], after["spec"])
        if execHooks(old) != execHooks(new) {
            return .forbidden("exec hooks run on the controller's machine: only global admins set them")
        }
        if old?["auth"]?["jwt"]?["jwksSecretRef"] != new?["auth"]?["jwt"]?["jwksSecretRef"] {
            return .forbidden("auth.jwt.jwksSecretRef sends a secret's content to the nodes: only global admins set it")
        }
        if kind == .infrastructure {
            var (kept, wanted) = (old ?? [:], new ?? [:])
            for field in ["permissions", "hooks", "resyncPeriod"] {
                kept[field] = nil
                wanted[field] = nil
            }
            if kept != wanted {
                return .forbidden(
                    "an infrastructure's targets, endpoints and secret references are set by global admins (its admins change permissions, hooks and resyncPeriod)"
                )
            }
        }
        return nil
    }

    /// Every `exec` hook of a spec, by phase and name.
    private static func execHooks(_ spec: JSONValue?) -> [String: JSONValue] {
        var hooks: [String: JSONValue] = [:]
        for (phase, entries) in spec?["hooks"]?.objectValue ?? [:] {
            for hook in entries.arrayValue ?? [] where hook["exec"] != nil {
                hooks["\(phase)/\(hook["name"]?.stringValue ?? "")"] = hook["exec"]
            }
        }
        return hooks
    }

    private static func needsDeploy(_ caller: Caller, _ deployment: JSONValue, context: AccessContext) -> AccessDecision {
        let (service, infrastructure) = deploymentRights(caller, deployment, context: context)
        let serviceName = deployment["spec"]?["service"]?.stringValue ?? ""
        let infrastructureName = deployment["spec"]?["infrastructure"]?.stringValue ?? ""
        guard service.contains(.deploy) else { return .forbidden("deploying needs deploy on published service \"\(serviceName)\"") }
        guard infrastructure.contains(.deploy) else { return .forbidden("deploying needs deploy on infrastructure \"\(infrastructureName)\"") }
        return .allowed
    }

    private static func deploymentRights(
        _ caller: Caller, _ deployment: JSONValue, context: AccessContext
    ) -> (ServiceRights, InfrastructureRights) {
        let namespace = deployment["metadata"]?["namespace"]?.stringValue ?? ""
        let service = AccessContext.key(namespace, deployment["spec"]?["service"]?.stringValue ?? "")
        let infrastructure = AccessContext.key(namespace, deployment["spec"]?["infrastructure"]?.stringValue ?? "")
        return (
            serviceRights(caller, context.servicePermissions[service]),
            infrastructureRights(caller, context.infrastructurePermissions[infrastructure])
        )
    }

    private static func grants(_ caller: Caller, _ permissions: JSONValue?) -> [JSONValue] {
        (permissions?.arrayValue ?? []).filter { caller.groups.contains($0["group"]?.stringValue ?? "") }
    }
}

/// The `spec.permissions` of infrastructures and services by `namespace/name`: what a
/// deployment's visibility depends on.
public struct AccessContext: Sendable {
    /// The dictionary key of an object.
    public static func key(_ namespace: String, _ name: String) -> String { namespace + "/" + name }

    public var infrastructurePermissions: [String: JSONValue]
    public var servicePermissions: [String: JSONValue]

    public init(infrastructurePermissions: [String: JSONValue] = [:], servicePermissions: [String: JSONValue] = [:]) {
        self.infrastructurePermissions = infrastructurePermissions
        self.servicePermissions = servicePermissions
    }
}
