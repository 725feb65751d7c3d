import ArgumentParser
import EventServer
import Foundation
import Logging
import ServiceLifecycle

/// `apideployer eventserver`: the event server role.
struct EventServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eventserver", abstract: "Store query logs and audit events as files.", subcommands: [Serve.self])

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "serve", abstract: "Take events over HTTP and store each, once durable, under the root.")

        @Option(help: "Folder the events are stored under.")
        var root: String

        @Option(help: "Address to listen on.")
        var host = "127.0.0.1"

        @Option(help: "Port to listen on (0 picks a free one).")
        var port = 12500

        @Option(help: "Configuration file (YAML or JSON): authKeys, destinations, maxFileBytes.")
        var config: String?

        func run() async throws {
            let logger = Logger(label: "apideployer.eventserver")
            let settings = try config.map { try EventServerConfig.load(path: $0) } ?? EventServerConfig()
            let services = try EventServerAssembly.services(
                root: URL(fileURLWithPath: root).standardizedFileURL, config: settings, host: host, port: port, logger: logger
            ) { url in
                printFlushed("eventserver: serving on \(url)")
            }
            let group = ServiceGroup(
                configuration: ServiceGroupConfiguration(
                    services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
        }
    }
}
