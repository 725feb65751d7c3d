import ArgumentParser
import DeployerModel
import EventShipping
import Foundation
import Logging
import ServiceLifecycle

/// `apideployer serve`: the embedded API server over SQLite, with the controller.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the API server and the controller on an embedded SQLite store (HTTPS, bearer tokens or OIDC JWTs).")

    @Option(help: "Data directory: store, packages, TLS material, identities, kubeconfig.")
    var dataDir = "./data"

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one).")
    var port = 7443

    @Option(help: "PEM certificate to serve instead of the self-signed one.")
    var tlsCert: String?

    @Option(help: "PEM private key of --tls-cert.")
    var tlsKey: String?

    @Option(help: "Watch events kept for resuming watches.")
    var watchHistory = 10_000

    @Flag(inversion: .prefixedNo, help: "Run the controller in this process.")
    var controller = true

    @Option(help: "Hooks that may run at once across the controller.")
    var hookConcurrency = 3

    @Option(help: "Event server for the audit trail (topic deployer-audit; key from APIDEPLOYER_AUDIT_EVENT_KEY). Default: files under DATA/audit.")
    var auditEventServer: String?

    @Option(help: "Routing key of the audit events.")
    var auditRoutingKey = "deployer"

    @OptionGroup var identity: IdentityOptions

    func validate() throws {
        if let url = auditEventServer, URL(string: url)?.host == nil || !["http", "https"].contains(URL(string: url)?.scheme ?? "") {
            throw ValidationError("--audit-event-server \(url): an http(s) URL is expected")
        }
        guard NameRules.isEventName(auditRoutingKey) else {
            throw ValidationError("--audit-routing-key \(auditRoutingKey): \(NameRules.eventNameRule)")
        }
    }

    func run() async throws {
        let logger = Logger(label: "apideployer.serve")
        if (tlsCert == nil) != (tlsKey == nil) { throw CLIError("--tls-cert and --tls-key go together") }
        var settings = DeployerRuntime.Settings(dataDirectory: dataDir)
        settings.host = host
        settings.port = port
        settings.tls = (tlsCert, tlsKey)
        settings.watchHistory = watchHistory
        settings.runsController = controller
        settings.hookConcurrency = hookConcurrency
        settings.auditEventServer = auditEventServer.map {
            EventTarget(url: $0, authKey: ProcessInfo.processInfo.environment["APIDEPLOYER_AUDIT_EVENT_KEY"])
        }
        settings.auditRoutingKey = auditRoutingKey
        settings.identityProvider = identity.provider
        settings.adminGroups = identity.adminGroupSet
        let runtime = try await DeployerRuntime.make(settings, logger: logger) { url, directory in
            printFlushed("apideployer: serving on \(url) (kubeconfig: \(directory.kubeconfigPath))")
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(services: runtime.services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            await runtime.close()
            throw error
        }
        await runtime.close()
    }
}
