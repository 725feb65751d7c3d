import ArgumentParser
import DeployerCore
import DeployerServer
import DeployerStores
import Foundation
import Logging
import ServiceLifecycle

/// `apideployer serve`: the embedded API server over SQLite.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the API server on an embedded SQLite store (HTTPS, bearer tokens).")

    @Option(help: "Data directory: store, TLS material, tokens, kubeconfig.")
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

    func run() async throws {
        let logger = Logger(label: "apideployer.serve")
        if (tlsCert == nil) != (tlsKey == nil) { throw CLIError("--tls-cert and --tls-key go together") }
        let directory = DataDirectory(dataDir)
        let tls = try directory.prepare(certificatePath: tlsCert, keyPath: tlsKey)
        let tokens = try directory.loadTokens()
        let journal = try await SQLiteJournal(path: directory.storePath, eventRetention: watchHistory)
        let store = try await ObjectStore(journal: journal, historyLimit: watchHistory)
        try await seedDefaultStages(store)
        let api = KubeAPI(store: store, authenticator: TokenAuthenticator(entries: tokens.entries), metrics: APIMetrics())
        let server = try makeAPIServer(
            api: api, settings: APIServerSettings(host: host, port: port, tls: tls), logger: logger
        ) { url in
            do {
                try directory.writeKubeconfig(server: url, certificatePEM: tlsCert == nil ? tls.certificate : nil, newToken: tokens.newAdminToken)
            } catch {
                logger.error("cannot write the kubeconfig: \(error)")
            }
            printFlushed("apideployer: serving on \(url) (kubeconfig: \(directory.kubeconfigPath))")
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: server), .init(service: WatchCloser(store: store)),
                    .init(service: BookmarkTicker(store: store, clock: ContinuousClock())),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
    }
}
