import APINode
import Foundation
import Logging
import ServiceLifecycle

/// Builds API nodes: their data directories and the services one node runs. Shared by
/// `node init`, `node serve` and `quickstart`.
enum NodeAssembly {
    /// Creates a node data directory with its `config.json` and `bin/apinode-admin` wrapper;
    /// returns the wrapper's path.
    @discardableResult
    static func initialize(_ directory: URL, configuration: NodeConfiguration = NodeConfiguration()) throws -> String {
        for folder in ["", "services", "run", "bin"] {
            try FileManager.default.createDirectory(
                at: directory.appendingPathComponent(folder), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        try configuration.write(to: directory)
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
        let wrapper = """
            #!/bin/sh
            # apinode-admin for this data directory (created by `apideployer node init`).
            exec "\(executable)" node admin --data-dir "\(directory.path)" "$@"

            """
        let wrapperPath = directory.appendingPathComponent("bin/apinode-admin").path
        guard FileManager.default.createFile(atPath: wrapperPath, contents: Data(wrapper.utf8), attributes: [.posixPermissions: 0o755])
        else { throw CLIError("cannot write \(wrapperPath)") }
        return wrapperPath
    }

    /// For `node serve --platform`: initialises the data directory if needed, fetches and
    /// imports the packages (`--package`, or those the deployer named in the environment; once
    /// each), activates them with their weights, and returns the platform contract for the
    /// endpoint (`--endpoint`, else the first package's first).
    static func preparePlatform(
        _ platform: PlatformServing.Platform, packages: [PlatformPackage], endpoint: String?, directory: URL, environment: [String: String],
        logger: Logger
    ) async throws -> PlatformServing {
        if !FileManager.default.fileExists(atPath: directory.appendingPathComponent("services").path) { try initialize(directory) }
        let runtime = try NodeRuntime(dataDirectory: directory, logger: logger)
        var service: String?
        var entries: [GenerationMapping.Entry] = []
        for package in packages {
            let archive = try await PlatformPackages.fetch(
                package, into: directory.appendingPathComponent("downloads"), http: .shared, environment: environment)
            let (name, version) = try validateArchive(archive)
            if let expected = package.version, expected != version { throw CLIError("the package for \(expected) holds version \(version)") }
            if let service, service != name { throw CLIError("the packages hold two services: \(service) and \(name)") }
            service = name
            if (try? await runtime.service(name)) == nil { try await runtime.createService(name) }
            if try await !runtime.service(name).generations.contains(where: { $0.id == version }) {
                _ = try await runtime.importGeneration(service: name, archive: archive)
            }
            if package.weight > 0 { entries.append(.init(generation: version, proba: Double(package.weight) / 100)) }
        }
        guard let service, let first = entries.first?.generation ?? packages.first?.version else { throw CLIError("no package to serve") }
        if entries.count > 1 {
            let strategy = GenerationMapping.Strategy(rawValue: environment["APIDEPLOYER_STRATEGY"] ?? "") ?? .random
            try await runtime.setMapping(service: service, GenerationMapping(strategy: strategy, entries: entries))
        } else if !entries.isEmpty {
            try await runtime.switchTo(service: service, generation: first)
        }
        let endpoints = runtime.table.services[service]?.generations[first]?.manifest.endpoints ?? []
        guard let chosen = endpoint.map({ wanted in endpoints.first { $0.id == wanted } }) ?? endpoints.first else {
            throw CLIError("--endpoint \(endpoint ?? ""): the package has no such endpoint (it has \(endpoints.map(\.id).joined(separator: ", ")))")
        }
        return try PlatformServing(platform: platform, service: service, endpoint: chosen.id, type: chosen.type, environment: environment)
    }

    /// The services of one node, in start order: the Python workers, the query log writer, then
    /// the server (so the server stops first, in-flight queries still log and still have their
    /// workers). `onListening` gets the base URL.
    static func services(
        directory: URL, host: String, port: Int, tls: NodeTLS?, certificateFile: String?, platform: PlatformServing? = nil, logger: Logger,
        onListening: @escaping @Sendable (String) async -> Void
    ) throws -> [ServiceGroupConfiguration.ServiceConfiguration] {
        guard FileManager.default.fileExists(atPath: directory.appendingPathComponent("services").path) else {
            throw CLIError("\(directory.path) is not a node data directory: run `apideployer node init \(directory.path)` first")
        }
        let runtime = try NodeRuntime(dataDirectory: directory, logger: logger)
        let targets = runtime.table.services.values.flatMap { $0.logging?.eventServers ?? [] }
        let (queryLog, queryLogWriter) = QueryLog.make(dataDirectory: directory, targets: targets, logger: logger)
        let live = LiveNode.file(in: directory)
        let server = try NodeServer.make(
            runtime: runtime, queryLog: queryLog, host: host, port: port, tls: tls, platform: platform, logger: logger
        ) { url in
            try? LiveNode(url: url, pid: getpid(), certificateFile: certificateFile).write(to: live)
            await onListening(url)
        }
        return [.init(service: EndpointWorkersService(runtime: runtime)), .init(service: queryLogWriter), .init(service: server)]
    }
}
