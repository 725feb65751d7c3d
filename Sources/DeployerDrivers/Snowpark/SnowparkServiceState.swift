import DeployerCore
import DeployerModel
import Foundation

/// A Snowpark service as `SHOW SERVICES`, `SHOW SERVICE CONTAINERS`, `SHOW ENDPOINTS` and
/// `DESCRIBE SERVICE` report it.
struct SnowparkServiceState {
    let name: String
    var exists = false
    var status = ""
    var upgrading = false
    var generations: [PlatformGeneration] = []
    /// Containers not `READY`, with their message.
    var unready: [(status: String, message: String)] = []
    var ingressHost: String?
    var ingressText: String?

    static func read(_ name: String, qualified: String, _ block: SnowparkTarget, _ sql: SnowflakeSQL) async throws -> SnowparkServiceState {
        var state = SnowparkServiceState(name: name)
        guard let row = try await sql.run("SHOW SERVICES LIKE '\(name)' IN SCHEMA \(block.database).\(block.schema)").first else { return state }
        state.exists = true
        state.status = (row["status"] ?? nil) ?? ""
        state.upgrading = (row["is_upgrading"] ?? nil) == "true"
        if let spec = (try await sql.run("DESCRIBE SERVICE \(qualified)").first?["spec"] ?? nil),
            let document = try? JSONValue.parseYAMLDocuments(spec).first,
            let text = document["spec"]?["containers"]?.arrayValue?.first?["env"]?[SnowparkDriver.generationsVariable]?.stringValue,
            let list = try? JSONValue.parse(Array(text.utf8))
        {
            state.generations = (list.arrayValue ?? []).compactMap(PlatformGeneration.init)
        }
        for container in try await sql.run("SHOW SERVICE CONTAINERS IN SERVICE \(qualified)") where (container["status"] ?? nil) != "READY" {
            state.unready.append(((container["status"] ?? nil) ?? "UNKNOWN", (container["message"] ?? nil) ?? ""))
        }
        let endpoint = try await sql.run("SHOW ENDPOINTS IN SERVICE \(qualified)").first { ($0["is_public"] ?? nil) == "true" }
        let ingress = (endpoint?["ingress_url"] ?? nil) ?? ""
        state.ingressText = ingress
        if ingress.wholeMatch(of: /[a-z0-9.-]+/) != nil { state.ingressHost = ingress }
        return state
    }

    func observation(target: String) -> TargetObservation {
        let url = ingressHost.map { "https://\($0)/" }
        guard exists else { return TargetObservation(name: target, url: nil, reachable: true, service: nil) }
        let failed = unready.filter { $0.status == "FAILED" }
        // An upgrade in progress may still list the instance that failed before it.
        let failure: String? =
            !upgrading && (["FAILED", "INTERNAL_ERROR"].contains(status) || !failed.isEmpty)
            ? "service \(name) is \(status): " + (failed.map(\.message).first ?? "a container failed") : nil
        if failure == nil, status != "RUNNING" || upgrading || !unready.isEmpty || ingressHost == nil {
            let why =
                status != "RUNNING" ? "service \(name) is \(status)"
                : upgrading ? "service \(name) is upgrading"
                : !unready.isEmpty ? "containers of \(name) are \(unready.map(\.status).joined(separator: ", "))"
                : "the public endpoint of \(name) is not ready (\(ingressText ?? ""))"
            return TargetObservation(name: target, url: url, reachable: false, message: why, service: nil)
        }
        let entries = generations.filter { $0.weight > 0 }.map { ServiceDeployment.ActiveGeneration(version: $0.version, weight: $0.weight) }
        let mapping = entries.isEmpty ? nil : ServingMapping(strategy: .random, entries: entries)
        return TargetObservation(
            name: target, url: url, reachable: true, message: "service \(name) is \(status)",
            service: ObservedService(enabled: mapping != nil, generations: Set(generations.map(\.version)), mapping: mapping), failure: failure)
    }
}
