import ArgumentParser
import CloudHTTP
import DeployerModel

/// `apideployer describe KIND NAME`: metadata, spec, conditions and rollout history.
struct DescribeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "describe", abstract: "Show one object in detail.")

    @OptionGroup var client: ClientOptions

    @Argument(help: "KIND NAME or KIND/NAME.")
    var target: [String]

    func run() async throws {
        let (kind, name) = try resolveTarget(target)
        guard let name else { throw CLIError("describe needs a name") }
        let document = try await client.withClient { client in
            try await client.send(.GET, APIPaths.object(kind, namespace: client.namespace, name: name)).checked()
        }
        print(Self.render(document, kind: kind))
    }

    static func render(_ document: JSONValue, kind: ResourceKind) -> String {
        let metadata = document["metadata"] ?? [:]
        var lines = [
            "Name:               \(metadata["name"]?.stringValue ?? "")",
            "Namespace:          \(metadata["namespace"]?.stringValue ?? "")",
            "Kind:               \(kind.kind)",
            "Labels:             \(keyValues(metadata["labels"]))",
            "Generation:         \(metadata["generation"]?.intValue.map(String.init) ?? "")",
            "Resource Version:   \(metadata["resourceVersion"]?.stringValue ?? "")",
            "Created:            \(metadata["creationTimestamp"]?.stringValue ?? "")",
        ]
        if let deleting = metadata["deletionTimestamp"]?.stringValue {
            lines.append("Deleting since:     \(deleting) (finalizers: \(keyValues(metadata["finalizers"])))")
        }
        if let spec = document["spec"] {
            lines.append("Spec:")
            lines += spec.yamlString().split(separator: "\n").map { "  " + $0 }
        }
        let status = document["status"] ?? [:]
        lines.append("Status:")
        lines.append("  Observed Generation:  \(status["observedGeneration"]?.intValue.map(String.init) ?? "<none>")")
        let conditions = status["conditions"]?.arrayValue ?? []
        lines.append("  Conditions:" + (conditions.isEmpty ? "  <none>" : ""))
        if !conditions.isEmpty {
            let table: [[String]] = [["Type", "Status", "Reason", "Generation", "Last Transition", "Message"]] + conditions.map { condition in
                ["type", "status", "reason", "observedGeneration", "lastTransitionTime", "message"].map {
                    condition[$0].map(JSONPathExpression.text) ?? ""
                }
            }
            lines += aligned(table).map { "    " + $0 }
        }
        if let active = status["activeGenerations"]?.arrayValue, !active.isEmpty {
            let text = active.map { "\($0["version"]?.stringValue ?? "")=\($0["weight"]?.intValue ?? 0)%" }.joined(separator: ", ")
            lines.append("  Active Generations:  \(text)")
        }
        if let targets = status["targets"]?.arrayValue, !targets.isEmpty {
            lines.append("  Targets:")
            lines += aligned(targets.map { target in
                [target["name"]?.stringValue ?? "", target["healthy"]?.boolValue == true ? "healthy" : "unhealthy",
                 (target["generations"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ","),
                 target["message"]?.stringValue ?? ""]
            }).map { "    " + $0 }
        }
        let history = status["history"]?.arrayValue ?? []
        lines.append("  History:" + (history.isEmpty ? "  <none>" : ""))
        for entry in history {
            let from = (entry["from"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ",")
            let to = (entry["to"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ",")
            lines.append(
                "    #\(entry["id"]?.intValue ?? 0) \(entry["outcome"]?.stringValue ?? "") [\(from)] -> [\(to)] by \(entry["requester"]?.stringValue ?? "?") "
                    + "\(entry["start"]?.stringValue ?? "") .. \(entry["end"]?.stringValue ?? "running")")
            for hook in entry["hooks"]?.arrayValue ?? [] {
                lines.append("      hook \(hook["phase"]?.stringValue ?? "")/\(hook["name"]?.stringValue ?? ""): \(hook["result"]?.stringValue ?? "") \(hook["message"]?.stringValue ?? "")")
            }
            for line in entry["log"]?.arrayValue ?? [] { lines.append("      \(line.stringValue ?? "")") }
        }
        return lines.joined(separator: "\n")
    }

    private static func keyValues(_ value: JSONValue?) -> String {
        if let members = value?.objectValue, !members.isEmpty {
            return members.keys.sorted().map { "\($0)=\(members[$0]?.stringValue ?? "")" }.joined(separator: ",")
        }
        if let elements = value?.arrayValue, !elements.isEmpty { return elements.compactMap(\.stringValue).joined(separator: ",") }
        return "<none>"
    }

    private static func aligned(_ rows: [[String]]) -> [String] {
        guard let count = rows.first?.count else { return [] }
        let widths = (0..<count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { $0.offset == count - 1 ? $0.element : $0.element.padding(toLength: widths[$0.offset] + 2, withPad: " ", startingAt: 0) }
                .joined()
        }
    }
}
