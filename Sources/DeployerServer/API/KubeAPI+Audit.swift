import DeployerCore
import DeployerModel

/// The audit event of every write and every denied request through the API (topic `deployer-audit`).
extension KubeAPI {
    static let writeMethods: Set<String> = ["POST", "PUT", "PATCH", "DELETE"]

    /// Who wrote what and whether it was allowed; a request refused for its credentials or
    /// permissions (reads too) is recorded as denied, with no user when the credentials were
    /// not accepted.
    func auditEvent(_ request: APIRequest, caller: Caller?, verb: String, response: APIResponse, denied: Bool) -> JSONValue {
        let segments = request.path.split(separator: "/")
        let path = segments.count > 3 ? ResourcePath.parse(segments[3...]) : nil
        let answer = (try? JSONValue.parse(response.bodyBytes)) ?? .null
        let isStatus = answer["kind"]?.stringValue == "Status"
        let name = path?.name ?? (isStatus ? nil : answer["metadata"]?["name"]?.stringValue) ?? (try? JSONValue.parse(request.body))?["metadata"]?["name"]?.stringValue
        return AuditEvent.apiRequest(
            isWrite: Self.writeMethods.contains(request.method), user: caller?.user, impersonator: caller?.impersonator,
            groups: caller.map { $0.groups.subtracting(Caller.implicitGroups).sorted() } ?? [], verb: verb, kind: path?.kind.kind,
            namespace: path?.namespace, name: name, generation: isStatus ? nil : answer["metadata"]?["generation"]?.intValue, allowed: !denied,
            status: response.status, message: isStatus && response.status >= 400 ? answer["message"]?.stringValue : nil,
            dryRun: request.query["dryRun"] == "All", at: now())
    }
}
