import APINode
import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle

/// `apideployer quickstart`: the whole product in one process on free loopback ports — the API
/// server and controller on an embedded store, two API nodes — then applies
/// `examples/quickstart/`, waits until the deployment is Ready and queries both nodes.
struct QuickstartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quickstart",
        abstract: "Start a deployer and two API nodes, deploy the example churn model, and query it through each node.")

    @Option(help: "Where the deployer and the nodes keep their data (reused by the next run).")
    var dataDir = "./quickstart-data"

    @Option(help: "The examples folder (with quickstart/ and packages/).")
    var examples = "examples"

    @Option(help: "How long to wait for Ready.")
    var timeout = "3m"

    @Flag(help: "Stop once the deployment is Ready and queried, instead of serving until Ctrl-C.")
    var exitWhenReady = false

    func run() async throws {
        let logger = Logger(label: "apideployer.quickstart")
        guard let limit = Duration(kubernetesString: timeout) else { throw CLIError("--timeout: invalid duration \"\(timeout)\"") }
        let root = URL(fileURLWithPath: dataDir).standardizedFileURL
        let examplesFolder = URL(fileURLWithPath: examples).standardizedFileURL
        guard FileManager.default.fileExists(atPath: examplesFolder.appendingPathComponent("quickstart").path) else {
            throw CLIError("\(examples)/quickstart not found: run from the repository root or pass --examples")
        }
        let addresses = QuickstartAddresses()
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        var nodes: [QuickstartNode] = []
        for name in ["node-a", "node-b"] {
            let directory = root.appendingPathComponent(name)
            try NodeAssembly.initialize(directory)
            let key = try AdminKeyStore(dataDirectory: directory).create(
                label: "quickstart", description: "used by the quickstart's deployer", createdBy: "quickstart", expiry: nil)
            nodes.append(QuickstartNode(name: name, directory: directory, adminKey: key.key))
            services += try NodeAssembly.services(
                directory: directory, host: "127.0.0.1", port: 0, tls: nil, certificateFile: nil, logger: logger
            ) { url in await addresses.record(name, url) }
        }
        var settings = DeployerRuntime.Settings(dataDirectory: root.appendingPathComponent("deployer").path)
        settings.port = 0
        let runtime = try await DeployerRuntime.make(settings, logger: logger) { url, directory in
            await addresses.record("deployer", url)
            await addresses.record("kubeconfig", directory.kubeconfigPath)
        }
        services += runtime.services
        let job = QuickstartJob(
            addresses: addresses, nodes: nodes, examples: examplesFolder, workFolder: root, limit: limit, keepServing: !exitWhenReady,
            http: runtime.http)
        services.append(.init(service: job, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup))
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            await runtime.close()
            for node in nodes { try? FileManager.default.removeItem(at: LiveNode.file(in: node.directory)) }
            throw error
        }
        await runtime.close()
        for node in nodes { try? FileManager.default.removeItem(at: LiveNode.file(in: node.directory)) }
    }
}

/// A node the quickstart started.
struct QuickstartNode: Sendable {
    let name: String
    let directory: URL
    let adminKey: String
}

/// The URLs the servers report once they listen; readers wait for them.
actor QuickstartAddresses {
    private var values: [String: String] = [:]
    private var waiters: [String: [CheckedContinuation<String, Never>]] = [:]

    func record(_ name: String, _ value: String) {
        values[name] = value
        for waiter in waiters.removeValue(forKey: name) ?? [] { waiter.resume(returning: value) }
    }

    func value(_ name: String) async -> String {
        if let value = values[name] { return value }
        return await withCheckedContinuation { waiters[name, default: []].append($0) }
    }
}
