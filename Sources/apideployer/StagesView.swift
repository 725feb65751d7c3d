import CloudHTTP
import DeployerModel

/// `get servicedeployments --by-stage`: per stage (in stage order), each deployment's service,
/// versions, infrastructure and health.
enum StagesView {
    static func render(client: KubeClient) async throws -> [String] {
        func items(_ kind: ResourceKind) async throws -> [JSONValue] {
            try await client.send(.GET, APIPaths.collection(kind, namespace: client.namespace)).checked()["items"]?.arrayValue ?? []
        }
        let stages = try await items(.stage).sorted { ($0["spec"]?["order"]?.intValue ?? 0) < ($1["spec"]?["order"]?.intValue ?? 0) }
        var stageOfInfrastructure: [String: String] = [:]
        for infrastructure in try await items(.infrastructure) {
            stageOfInfrastructure[infrastructure["metadata"]?["name"]?.stringValue ?? ""] = infrastructure["spec"]?["stage"]?.stringValue
        }
        let deployments = try await items(.serviceDeployment)
        var lines: [String] = []
        let known = Set(stages.compactMap { $0["metadata"]?["name"]?.stringValue })
        var sections = stages.map { ($0["metadata"]?["name"]?.stringValue ?? "", $0["spec"]?["displayName"]?.stringValue ?? "") }
        let unknown = Set(deployments.compactMap { stageOfInfrastructure[$0["spec"]?["infrastructure"]?.stringValue ?? ""] ?? "" })
            .subtracting(known)
        sections += unknown.sorted().map { ($0, $0.isEmpty ? "(no such infrastructure)" : "\($0) (no such stage)") }
        for (stage, displayName) in sections {
            let members = deployments.filter { (stageOfInfrastructure[$0["spec"]?["infrastructure"]?.stringValue ?? ""] ?? "") == stage }
            lines.append("\(displayName) (\(stage)): \(members.count) deployment\(members.count == 1 ? "" : "s")")
            let rows = members.map { deployment -> [String] in
                let spec = deployment["spec"]
                let versions = spec?["version"]?.stringValue
                    ?? (spec?["generations"]?["entries"]?.arrayValue ?? []).map {
                        "\($0["version"]?.stringValue ?? ""):\($0["weight"]?.intValue ?? 0)"
                    }.joined(separator: ",")
                let ready = deployment.readyCondition
                let targets = deployment["status"]?["targets"]?.arrayValue ?? []
                let healthy = targets.filter { $0["healthy"] == .bool(true) }.count
                return [
                    (deployment["metadata"]?["name"]?.stringValue ?? ""), spec?["service"]?.stringValue ?? "", versions,
                    spec?["infrastructure"]?.stringValue ?? "", ready?["status"]?.stringValue ?? "Unknown", "\(healthy)/\(targets.count)",
                    ready?["message"]?.stringValue ?? "",
                ]
            }
            if !rows.isEmpty { lines += TablePrinter.aligned([["NAME", "SERVICE", "VERSIONS", "INFRASTRUCTURE", "READY", "HEALTHY", "MESSAGE"]] + rows) }
        }
        return lines
    }
}

extension JSONValue {
    /// The Ready condition, if it was observed at the current generation.
    fileprivate var readyCondition: JSONValue? {
        let generation = self["metadata"]?["generation"]?.intValue ?? 0
        guard let ready = self["status"]?["conditions"]?.arrayValue?.first(where: { $0["type"] == "Ready" }) else { return nil }
        if let observed = ready["observedGeneration"]?.intValue, observed < generation { return ["status": "Unknown", "message": "not yet observed"] }
        return ready
    }
}
