import ArgumentParser
import CloudHTTP
import DeployerModel
import Foundation

/// `apideployer get KIND [NAME]`: tables, YAML, JSON or names; `-w` keeps watching.
struct GetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Show objects.")

    @OptionGroup var client: ClientOptions

    @Argument(help: "KIND [NAME] or KIND/NAME.")
    var target: [String]

    @Option(name: [.short, .customLong("output")], help: "yaml, json, wide or name.")
    var output: OutputFormat?

    @Option(name: [.customShort("l"), .customLong("selector")], help: "Label selector.")
    var selector: String?

    @Flag(name: [.short, .customLong("watch")], help: "After listing, print changes as they happen.")
    var watch = false

    @Flag(help: "servicedeployments only: group by the stage of their infrastructure, with versions and health.")
    var byStage = false

    enum OutputFormat: String, ExpressibleByArgument {
        case yaml, json, wide, name
    }

    func run() async throws {
        let (kind, name) = try resolveTarget(target)
        if byStage {
            guard kind == .serviceDeployment, name == nil, !watch, output == nil else {
                throw CLIError("--by-stage shows all servicedeployments as a table (no name, -o or -w)")
            }
            try await client.withClient { client in try await StagesView.render(client: client).forEach { print($0) } }
            return
        }
        try await client.withClient { client in
            let path = name.map { APIPaths.object(kind, namespace: client.namespace, name: $0) }
                ?? APIPaths.collection(kind, namespace: client.namespace)
            var query: [String: String] = [:]
            if let selector { query["labelSelector"] = selector }
            let resourceVersion: String?
            switch output {
            case .yaml, .json:
                let document = try await client.send(.GET, path, query: query).checked()
                print(output == .yaml ? document.yamlString() : Self.pretty(document))
                resourceVersion = document["metadata"]?["resourceVersion"]?.stringValue
            case .name:
                let document = try await client.send(.GET, path, query: query).checked()
                let items = name == nil ? (document["items"]?.arrayValue ?? []) : [document]
                for item in items { print("\(kind.singular).\(ResourceKind.group)/\(item["metadata"]?["name"]?.stringValue ?? "")") }
                resourceVersion = document["metadata"]?["resourceVersion"]?.stringValue
            case .wide, nil:
                let table = try await client.send(.GET, path, query: query, accept: Self.tableAccept).checked()
                let lines = TablePrinter(wide: output == .wide).lines(table, header: true)
                if lines.count <= 1, name == nil {
                    FileHandle.standardError.write(Data("No resources found in \(client.namespace) namespace.\n".utf8))
                } else {
                    lines.forEach { print($0) }
                }
                resourceVersion = table["metadata"]?["resourceVersion"]?.stringValue
            }
            if watch { try await follow(client: client, kind: kind, name: name, from: resourceVersion) }
        }
    }

    static let tableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"

    private func follow(client: KubeClient, kind: ResourceKind, name: String?, from resourceVersion: String?) async throws {
        var query: [String: String] = ["resourceVersion": resourceVersion ?? "0"]
        if let selector { query["labelSelector"] = selector }
        if let name { query["fieldSelector"] = "metadata.name=\(name)" }
        let accept = output == nil || output == .wide ? Self.tableAccept : "application/json"
        let path = APIPaths.collection(kind, namespace: client.namespace)
        for try await event in client.watch(path, query: query, accept: accept, timeout: .seconds(86_400)) {
            guard let object = event["object"], event["type"]?.stringValue != "ERROR" else {
                throw CLIError(event["object"]?["message"]?.stringValue ?? "watch failed")
            }
            switch output {
            case .yaml: printFlushed("---\n" + object.yamlString())
            case .json: printFlushed(Self.pretty(object))
            case .name: printFlushed("\(kind.singular).\(ResourceKind.group)/\(object["metadata"]?["name"]?.stringValue ?? "")")
            case .wide, nil:
                TablePrinter(wide: output == .wide).lines(object, header: false).forEach { printFlushed($0) }
            }
        }
    }

    static func pretty(_ value: JSONValue) -> String {
        guard let data = try? JSONSerialization.jsonObject(with: Data(value.serialized())),
            let text = try? JSONSerialization.data(withJSONObject: data, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        else { return value.jsonString }
        return String(decoding: text, as: UTF8.self)
    }
}
