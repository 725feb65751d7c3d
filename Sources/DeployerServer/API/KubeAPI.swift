import DeployerCore
import DeployerModel
import Foundation

/// The Kubernetes-shaped REST API over a `ResourceStore`: discovery, OpenAPI, get, list,
/// watch, create, update, patch, delete and `/status`, with `Status` errors. Framework-free:
/// a request goes in, a response comes out; `APIServer` puts it on a socket.
public struct KubeAPI: Sendable {
    let store: any ResourceStore
    let authenticator: RequestAuthenticator
    let metrics: APIMetrics?
    let audit: (any AuditTrail)?
    let now: @Sendable () -> Date
    /// Largest request body accepted, as on a real API server (3 MiB).
    public static let maximumBodyBytes = 3 * 1024 * 1024

    public init(
        store: any ResourceStore, authenticator: RequestAuthenticator, metrics: APIMetrics? = nil, audit: (any AuditTrail)? = nil,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.audit = audit
        self.store = store
        self.authenticator = authenticator
        self.metrics = metrics
        self.now = now
    }

    /// Answers one request.
    public func handle(_ request: APIRequest) async -> APIResponse {
        let started = ContinuousClock.now
        var verb = request.method.lowercased()
        var resource = ""
        var caller: Caller?
        var denied = false
        let response: APIResponse
        do {
            response = try await route(request, verb: &verb, resource: &resource, caller: &caller)
        } catch let refusal as AccessDenied {
            denied = true
            response = .error(refusal.error)
        } catch let error as APIError {
            denied = error.code == 401 || error.code == 403
            response = .error(error)
        } catch {
            response = .error(.internalError("\(error)"))
        }
        metrics?.record(verb: verb, resource: resource, code: response.status, duration: ContinuousClock.now - started)
        if let audit, denied || Self.writeMethods.contains(request.method) {
            audit.record(auditEvent(request, caller: caller, verb: verb, response: response, denied: denied))
        }
        return response
    }

    /// `caller` is set once the request's credentials are accepted.
    private func route(_ request: APIRequest, verb: inout String, resource: inout String, caller: inout Caller?) async throws -> APIResponse {
        let segments = request.path.split(separator: "/")
        switch request.path {
        case "/healthz", "/readyz", "/livez": return .text("ok")
        case "/version", "/version/": return version()
        case AdmissionReviewer.path where request.method == "POST":
            // Kubernetes calls webhooks without our credentials; the review names its user.
            resource = "admissionreviews"
            guard let review = try? JSONValue.parse(request.body) else { throw APIError.badRequest("the body must be an AdmissionReview") }
            return .json(await AdmissionReviewer(store: store, adminGroups: authenticator.adminGroups).answer(review))
        default: break
        }
        let signedIn = try await authenticator.authenticate(request.header("authorization"))
        caller = signedIn
        let authenticated = try impersonation(request, by: signedIn)
        caller = authenticated
        if request.path == "/metrics", let metrics { return .text(metrics.exposition(), contentType: "text/plain; version=0.0.4") }
        if IdentityAPI.handles(request.path) {
            resource = "identities"
            return try IdentityAPI(store: authenticator.identities).handle(request, caller: authenticated)
        }
        if Self.isCoordinationLease(request.path) {
            resource = "leases.coordination.k8s.io"
            return try await coordinationLease(request, verb: &verb, caller: authenticated)
        }
        guard request.method == "GET" || segments.count > 3 else { throw APIError.methodNotAllowed() }
        switch segments.count {
        case 1 where segments[0] == "api": return coreDiscovery(request)
        case 1 where segments[0] == "apis": return groupsDiscovery(request)
        case 2 where segments[0] == "openapi" && segments[1] == "v3": return openAPIIndex()
        case 2 where segments[0] == "apis" && segments[1] == Substring(ResourceKind.group):
            return .json(JSONValue(["kind": "APIGroup", "apiVersion": "v1"]).merging(groupDocument))
        case 3 where Array(segments) == ["apis", Substring(ResourceKind.group), Substring(ResourceKind.version)]:
            return groupVersionDiscovery()
        case 5 where segments[0] == "openapi" && segments[2...].joined(separator: "/") == Self.groupVersionPath:
            return openAPIGroupVersion()
        default: break
        }
        guard segments.count > 3, segments[0] == "apis", segments[1] == Substring(ResourceKind.group),
            segments[2] == Substring(ResourceKind.version), let path = ResourcePath.parse(segments[3...])
        else { throw APIError.resourceNotFound(request.path) }
        resource = path.kind.plural + (path.subresource.map { "/" + $0 } ?? "")
        return try await dispatch(request, path: path, caller: authenticated, verb: &verb)
    }

    func dispatch(_ request: APIRequest, path: ResourcePath, caller: Caller, verb: inout String) async throws -> APIResponse {
        let isWatch = ["true", "1"].contains(request.query["watch"] ?? "")
        switch (request.method, path.name) {
        case ("GET", nil):
            verb = isWatch ? "watch" : "list"
            return isWatch ? try await watch(request, path: path, caller: caller) : try await list(request, path: path, caller: caller)
        case ("GET", .some(let name)):
            verb = "get"
            return try await get(request, path: path, name: name, caller: caller)
        case ("POST", nil):
            verb = "create"
            return try await create(request, path: path, caller: caller)
        case ("PUT", .some(let name)):
            verb = "update"
            return try await replace(request, path: path, name: name, caller: caller)
        case ("PATCH", .some(let name)):
            verb = "patch"
            return try await patch(request, path: path, name: name, caller: caller)
        case ("DELETE", .some(let name)):
            verb = "delete"
            return try await delete(request, path: path, name: name, caller: caller)
        default:
            throw APIError.methodNotAllowed()
        }
    }

    /// The caller a global admin acts as with `Impersonate-User` (and `Impersonate-Group`), as
    /// Flux and Argo CD do to apply with less rights; anyone else asking for it is refused.
    private func impersonation(_ request: APIRequest, by caller: Caller) throws -> Caller {
        guard let user = request.header("impersonate-user"), !user.isEmpty else { return caller }
        guard caller.isGlobalAdmin else { throw AccessDenied(error: .forbidden("user \"\(caller.user)\" cannot impersonate users")) }
        let groups = (request.header("impersonate-group") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        return Caller(user: user, groups: groups.filter { !$0.isEmpty }, adminGroups: authenticator.adminGroups, impersonator: caller.user)
    }

    func listQuery(_ request: APIRequest, namespace: String?) throws -> ListQuery {
        ListQuery(
            namespace: namespace,
            labelSelector: try request.query["labelSelector"].map(LabelSelector.init(parsing:)) ?? .everything,
            fieldSelector: try request.query["fieldSelector"].map(FieldSelector.init(parsing:)) ?? .everything,
            limit: request.query["limit"].flatMap(Int.init),
            continueToken: request.query["continue"])
    }

    /// Whether the client asked for a `meta.k8s.io/v1` Table (`kubectl get`).
    func wantsTable(_ request: APIRequest) -> Bool {
        (request.header("accept") ?? "").contains("as=Table")
    }
}

extension JSONValue {
    init(_ members: [String: String]) { self = .object(members.mapValues { .string($0) }) }

    /// The members of both objects, `other` winning.
    func merging(_ other: JSONValue) -> JSONValue {
        .object((objectValue ?? [:]).merging(other.objectValue ?? [:]) { _, new in new })
    }
}
