import ArgumentParser
import CloudHTTP
import DeployerModel
import Foundation

/// `apideployer wait`: blocks until a condition holds for the object's current generation, the
/// object is deleted, or a JSONPath has a value — with kubectl's semantics.
struct WaitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "wait", abstract: "Wait for a condition on an object.")

    @OptionGroup var client: ClientOptions

    @Argument(help: "KIND/NAME or KIND NAME.")
    var target: [String]

    @Option(name: .customLong("for"), help: "condition=TYPE[=VALUE], delete, or jsonpath={EXPR}[=VALUE].")
    var condition: String

    @Option(help: "How long to wait: 30s, 5m, ... (0 checks once).")
    var timeout = "30s"

    func run() async throws {
        let (kind, name) = try resolveTarget(target)
        guard let name else { throw CLIError("wait needs a name") }
        guard let limit = Duration(kubernetesString: timeout) ?? (timeout == "0" ? .zero : nil) else {
            throw CLIError("--timeout: invalid duration \"\(timeout)\"")
        }
        let check = try WaitCondition(parsing: condition)
        let met = try await client.withClient { client in
            try await check.wait(kind: kind, name: name, client: client, limit: limit)
        }
        guard met else {
            throw CLIError("timed out waiting for the condition on \(kind.plural)/\(name)")
        }
        print("\(kind.singular).\(ResourceKind.group)/\(name) condition met")
    }
}

/// What `--for` asks for.
enum WaitCondition: Sendable {
    case condition(type: String, value: String)
    case deleted
    case jsonPath(JSONPathExpression, value: String?)

    init(parsing text: String) throws {
        if text == "delete" {
            self = .deleted
        } else if text.hasPrefix("condition=") {
            let parts = text.dropFirst("condition=".count).split(separator: "=", maxSplits: 1).map(String.init)
            guard let type = parts.first, !type.isEmpty else { throw CLIError("--for=condition needs a condition type") }
            self = .condition(type: type, value: parts.count > 1 ? parts[1] : "True")
        } else if text.hasPrefix("jsonpath=") {
            var expression = String(text.dropFirst("jsonpath=".count))
            var value: String?
            if let close = expression.lastIndex(of: "}"), let equals = expression[close...].firstIndex(of: "=") {
                value = String(expression[expression.index(after: equals)...])
                expression = String(expression[..<equals])
            }
            guard let parsed = JSONPathExpression(expression) else { throw CLIError("--for=jsonpath: cannot parse \(expression)") }
            self = .jsonPath(parsed, value: value)
        } else {
            throw CLIError("--for must be condition=TYPE[=VALUE], delete or jsonpath={...}[=VALUE]")
        }
    }

    /// kubectl's rule: the first condition of that type counts, and only if it (or the status)
    /// was observed at the object's current generation.
    func isMet(by object: JSONValue) -> Bool {
        switch self {
        case .deleted:
            return false
        case .jsonPath(let expression, let value):
            let found = expression.evaluate(object)
            guard let value else { return !found.isEmpty }
            return found.count == 1 && JSONPathExpression.text(found[0]) == value
        case .condition(let type, let value):
            let generation = object["metadata"]?["generation"]?.intValue ?? 0
            guard let condition = (object["status"]?["conditions"]?.arrayValue ?? []).first(where: {
                $0["type"]?.stringValue?.lowercased() == type.lowercased()
            }) else { return false }
            let observed = condition["observedGeneration"]?.intValue ?? object["status"]?["observedGeneration"]?.intValue
            if let observed, observed < generation { return false }
            return condition["status"]?.stringValue?.lowercased() == value.lowercased()
        }
    }
}

extension WaitCondition {
    /// Whether the condition holds for the object within `limit` (watching, not polling).
    func wait(kind: ResourceKind, name: String, client: KubeClient, limit: Duration) async throws -> Bool {
        let check = self
        let path = APIPaths.object(kind, namespace: client.namespace, name: name)
        let current = try await client.send(.GET, path)
        if current.status == 404 {
            if case .deleted = check { return true }
            throw current.error
        }
        let object = try current.checked()
        if check.isMet(by: object) { return true }
        if limit == .zero { return false }
        let query = [
            "fieldSelector": "metadata.name=\(name)", "resourceVersion": object["metadata"]?["resourceVersion"]?.stringValue ?? "0",
            "allowWatchBookmarks": "true", "timeoutSeconds": String(Int(limit.components.seconds) + 1),
        ]
        return try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                for try await event in client.watch(APIPaths.collection(kind, namespace: client.namespace), query: query, timeout: limit + .seconds(5)) {
                    switch event["type"]?.stringValue {
                    case "DELETED": if case .deleted = check { return true }
                    case "ADDED", "MODIFIED": if let object = event["object"], check.isMet(by: object) { return true }
                    case "ERROR": throw CLIError(event["object"]?["message"]?.stringValue ?? "watch failed")
                    default: break
                    }
                }
                return false
            }
            group.addTask {
                try await Task.sleep(for: limit)
                return false
            }
            let result = try await group.next() ?? false
            group.cancelAll()
            return result
        }
    }
}
