import DeployerCore
import DeployerModel

/// `coordination.k8s.io/v1` Leases, served from the same objects as our own `Lease` kind (the
/// two have the same shape), so that client-go-style leader election — `apideployer controller
/// --kubernetes` among others — works against the deployer's API as against a cluster. Get,
/// list, create, update, patch and delete; not watch.
extension KubeAPI {
    static let coordinationAPIVersion = "coordination.k8s.io/v1"
    static let coordinationPrefix = "/apis/coordination.k8s.io/v1/"

    /// Whether `path` names coordination Leases.
    static func isCoordinationLease(_ path: String) -> Bool {
        path.hasPrefix(coordinationPrefix) && path.split(separator: "/").dropFirst(3).contains("leases")
    }

    /// Answers a coordination Lease request through our Lease kind: apiVersion rewritten on the
    /// way in and on the way out.
    func coordinationLease(_ request: APIRequest, verb: inout String, caller: Caller) async throws -> APIResponse {
        guard !["true", "1"].contains(request.query["watch"] ?? "") else { throw APIError.methodNotAllowed() }
        let segments = request.path.split(separator: "/")
        guard let path = ResourcePath.parse(segments[3...]), path.kind == .lease, path.subresource == nil else {
            throw APIError.resourceNotFound(request.path)
        }
        var inner = request
        inner.path = "/apis/\(ResourceKind.apiVersion)/" + segments[3...].joined(separator: "/")
        if var body = try? JSONValue.parse(request.body), body["apiVersion"]?.stringValue == Self.coordinationAPIVersion {
            body["apiVersion"] = .string(ResourceKind.apiVersion)
            inner.body = body.serialized()
        }
        var response = try await dispatch(inner, path: path, caller: caller, verb: &verb)
        if case .bytes(let bytes) = response.body, var document = try? JSONValue.parse(bytes) {
            Self.toCoordination(&document)
            if var items = document["items"]?.arrayValue {
                for index in items.indices { Self.toCoordination(&items[index]) }
                document["items"] = .array(items)
            }
            response.body = .bytes(document.serialized())
        }
        return response
    }

    private static func toCoordination(_ document: inout JSONValue) {
        if document["apiVersion"]?.stringValue == ResourceKind.apiVersion { document["apiVersion"] = .string(coordinationAPIVersion) }
    }
}
