import APINode
import AsyncHTTPClient
import DeployerCore
import DeployerDrivers
import DeployerModel
import DeployerServer
import DeployerStores
import EventShipping
import Foundation
import Logging
import Metrics
import Prometheus
import ReconcileKit
import ServiceLifecycle

/// The embedded deployer in one process: the store, the package store, the API server and
/// (optionally) the controller with its drivers — the services `serve` and `quickstart` run.
struct DeployerRuntime {
    let store: ObjectStore
    /// Held for the runtime's life: no other process opens this store meanwhile.
    let directoryLock: DataDirectoryLock
    let services: [ServiceGroupConfiguration.ServiceConfiguration]
    let http: HTTPClient

    /// Settings of the embedded deployer.
    struct Settings {
        var dataDirectory: String
        var host = "127.0.0.1"
        var port = 7443
        var tls: (certificate: String?, key: String?) = (nil, nil)
        var watchHistory = 10_000
        var runsController = true
        var hookConcurrency = 3
        /// Where audit events go: an event server, or (nil) files under DATA/audit.
        var auditEventServer: EventTarget?
        var auditRoutingKey = "deployer"
        /// Bearer JWTs from a company identity provider, accepted beside our own tokens.
        var identityProvider: ExternalIdentityProvider?
        /// Members of these groups are global admins.
        var adminGroups = Caller.defaultAdminGroups
    }

    /// Opens the data directory and builds every service; `onListening` gets the API URL.
    static func make(_ settings: Settings, logger: Logger, onListening: @escaping @Sendable (String, DataDirectory) async -> Void) async throws
        -> DeployerRuntime
    {
        let directory = DataDirectory(settings.dataDirectory)
        let tls = try directory.prepare(certificatePath: settings.tls.certificate, keyPath: settings.tls.key)
        let directoryLock = try DataDirectoryLock(directory: directory.url)
        let identities = try directory.openIdentities()
        let journal = try await SQLiteJournal(
            path: directory.storePath, eventRetention: settings.watchHistory, secrets: try SecretKeyring(path: directory.secretKeysPath))
        let store = try await ObjectStore(journal: journal, historyLimit: settings.watchHistory)
        try await seedDefaultStages(store)
        let authenticator = RequestAuthenticator(
            identities: identities.store, provider: settings.identityProvider, adminGroups: settings.adminGroups)
        let packageStore = try DirectoryPackageStore(directory: directory.url.appendingPathComponent("packages"))
        let packageAPI = PackageAPI(
            store: packageStore, authenticator: authenticator, uploads: packageStore.directory, validate: validateArchive)
        // One registry for the API's metrics and, through swift-metrics, the controller's.
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let auditSink: any EventSink = settings.auditEventServer.map {
            EventShipper(target: $0, spoolDirectory: directory.url.appendingPathComponent("audit-spool"), http: .shared, logger: logger)
        } ?? LocalEventFile(directory: directory.url.appendingPathComponent("audit"))
        let audit = SinkAuditTrail(sink: auditSink, routingKey: settings.auditRoutingKey)
        let api = KubeAPI(store: store, authenticator: authenticator, metrics: APIMetrics(registry: registry), audit: audit)
        let usesOwnCertificate = settings.tls.certificate == nil
        let server = try makeAPIServer(
            api: api, packages: packageAPI, settings: APIServerSettings(host: settings.host, port: settings.port, tls: tls), logger: logger
        ) { url in
            do {
                try directory.writeKubeconfig(server: url, certificatePEM: usesOwnCertificate ? tls.certificate : nil, newToken: identities.newAdminToken)
            } catch {
                logger.error("cannot write the kubeconfig: \(error)")
            }
            await onListening(url, directory)
        }
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(5))
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 16
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        // The audit sink starts first and stops last, after everything that records.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: auditSink), .init(service: server), .init(service: WatchCloser(store: store)),
            .init(service: BookmarkTicker(store: store, clock: ContinuousClock())),
        ]
        if settings.runsController {
            let fetcher = try PackageFetcher(store: packageStore, cache: directory.url.appendingPathComponent("package-cache"), http: http)
            let clock = ContinuousClock()
            let hooks = HookRunner(limiter: HookLimiter(limit: settings.hookConcurrency, clock: clock), webhooks: SignedWebhookSender(http: http))
            let controller = DeployerController(
                store: store, drivers: ControllerCommand.drivers(http: http, packages: fetcher, ownCluster: nil), hooks: hooks, clock: clock,
                logger: Logger(label: "apideployer.controller"), audit: audit)
            let lease = StoreLeaseLock(store: store)
            // The data directory lock proves that no other process uses this store: a holder
            // recorded in the lease has died, and waiting for its lease to expire would gain nothing.
            try await lease.release(heldBy: nil)
            let elector = LeaderElector(identity: "\(ProcessInfo.processInfo.hostName)_\(getpid())", lock: lease, clock: clock)
            services.append(.init(service: LeaderElectedService(elector: elector, service: controller)))
        }
        return DeployerRuntime(store: store, directoryLock: directoryLock, services: services, http: http)
    }

    /// Releases what the services leave open.
    func close() async {
        try? await http.shutdown()
        try? await store.close()
    }
}

/// Audit events into an event sink, as topic `deployer-audit`.
struct SinkAuditTrail: AuditTrail {
    let sink: any EventSink
    let routingKey: String

    func record(_ event: JSONValue) {
        sink.enqueue(ShippedEvent(topic: AuditEvent.topic, routingKey: routingKey, line: event.serialized(sortingKeys: false)))
    }
}

/// Checks a package archive completely (unzipped in a scratch folder, every model compiled).
@Sendable func validateArchive(_ archive: URL) throws -> (service: String, version: String) {
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("apideployer-check-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: scratch) }
    try PackageArchive.extract(archive, to: scratch)
    let package = try PackageValidator.validate(folder: scratch)
    return (package.manifest.service, package.manifest.version)
}
