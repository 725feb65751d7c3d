import DeployerCore
import DeployerModel

/// The audit event of every write through the API (topic `deployer-audit`).
extension KubeAPI {
    static let writeMethods: Set<String> = ["POST", "PUT", "PATCH", "DELETE"]

    /// Who wrote what and whether it was allowed; an unauthenticated or forbidden request is
    /// recorded as denied, with no user (`identity`) when the token was not accepted.
    func auditEvent(_ request: APIRequest, identity: Identity?, verb: String, response: APIResponse) -> JSONValue {
        let segments = request.path.split(separator: "/")
        let path = segments.count > 3 ? ResourcePath.parse(segments[3...]) : nil
        let answer = (try? JSONValue.parse(response.bodyBytes)) ?? .null
        let isStatus = answer["kind"]?.stringValue == "Status"
        let name = path?.name ?? (isStatus ? nil : answer["metadata"]?["name"]?.stringValue) ?? (try? JSONValue.parse(request.body))?["metadata"]?["name"]?.stringValue
        return AuditEvent.apiWrite(
            user: identity?.user, groups: identity?.groups ?? [], verb: verb, kind: path?.kind.kind, namespace: path?.namespace, name: name,
            generation: isStatus ? nil : answer["metadata"]?["generation"]?.intValue, allowed: response.status != 401 && response.status != 403,
            status: response.status, message: isStatus && response.status >= 400 ? answer["message"]?.stringValue : nil,
            dryRun: request.query["dryRun"] == "All", at: now())
    }
}
