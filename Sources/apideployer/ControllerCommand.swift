import ArgumentParser
import AsyncHTTPClient
import CloudHTTP
import DeployerCore
import DeployerDrivers
import DeployerModel
import DeployerServer
import DeployerStores
import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import ReconcileKit
import ServiceLifecycle

/// `apideployer controller --kubernetes`: the controller alone, on the custom resources of a
/// cluster (the kubeconfig's, or the pod's own in-cluster configuration). Several replicas may
/// run; a `coordination.k8s.io/v1` Lease (15 s / 10 s / 2 s) lets one reconcile, and SIGTERM
/// releases it so another takes over at once. `/healthz`, `/readyz` and `/metrics` on
/// `--health-port`; the admission webhook on `--webhook-port` when given a certificate.
struct ControllerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "controller", abstract: "Run the controller on a Kubernetes cluster's custom resources (leader elected).")

    @Flag(help: "Reconcile the custom resources of a cluster (the embedded store's controller runs in `serve`).")
    var kubernetes = false

    @Option(help: "Kubeconfig (default: $KUBECONFIG, ~/.kube/config, else the in-cluster configuration).")
    var kubeconfig: String?

    @Option(help: "Context of the kubeconfig (default: its current context).")
    var context: String?

    @Option(help: "Namespace of the leader-election Lease (default: the pod's or the context's).")
    var leaseNamespace: String?

    @Option(help: "Name of the leader-election Lease.")
    var leaseName = Lease.controllerName

    @Option(help: "This replica's identity in the Lease (default: host name and process id).")
    var identity: String?

    @Option(help: "Address of the health and metrics endpoints.")
    var healthHost = "0.0.0.0"

    @Option(help: "Port of /healthz, /readyz and /metrics (0 picks a free one).")
    var healthPort = 8081

    @Option(help: "PEM certificate of the admission webhook's HTTPS port (with --webhook-key; none: no webhook).")
    var webhookCert: String?

    @Option(help: "PEM private key of --webhook-cert.")
    var webhookKey: String?

    @Option(help: "Port of the admission webhook (POST /admission/v1/review).")
    var webhookPort = 9443

    @Option(help: "Groups whose members are global admins for the webhook (the controller's service account must be one).")
    var adminGroup: [String] = []

    @Option(help: "Folder for downloaded packages.")
    var cacheDir = FileManager.default.temporaryDirectory.appendingPathComponent("apideployer-controller").path

    func validate() throws {
        guard kubernetes else { throw ValidationError("--kubernetes is required (the embedded store's controller runs in `apideployer serve`)") }
        guard (webhookCert == nil) == (webhookKey == nil) else { throw ValidationError("--webhook-cert and --webhook-key go together") }
    }

    func run() async throws {
        let logger = Logger(label: "apideployer.controller")
        let environment = ProcessInfo.processInfo.environment
        let client: KubeClient
        if let path = KubeconfigLoader.locate(explicit: kubeconfig, environment: environment) {
            client = try KubeClient(kubeconfig: try KubeconfigLoader.load(path: path), context: context)
        } else {
            client = try KubeClient.inCluster(environment: environment)
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let store = KubernetesResourceStore(client: client)
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let cache = URL(fileURLWithPath: cacheDir)
        let fetcher = try PackageFetcher(
            store: try DirectoryPackageStore(directory: cache.appendingPathComponent("packages")), cache: cache.appendingPathComponent("downloads"), http: http)
        let clock = ContinuousClock()
        let me = identity ?? "\(ProcessInfo.processInfo.hostName)_\(getpid())"
        let controller = DeployerController(
            store: store, drivers: Self.drivers(http: http, packages: fetcher, ownCluster: client),
            hooks: HookRunner(limiter: HookLimiter(clock: clock), webhooks: SignedWebhookSender(http: http)), clock: clock, logger: logger,
            audit: KubernetesEventRecorder(client: client, instance: me, logger: logger))
        let lock = KubeLeaseLock(client: client, namespace: leaseNamespace ?? client.namespace, name: leaseName)
        let elector = LeaderElector(identity: me, lock: lock, clock: clock)
        let health = Self.healthServer(host: healthHost, port: healthPort, registry: registry, logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: health), .init(service: LeaderElectedService(elector: elector, service: controller)),
        ]
        if let webhookCert, let webhookKey {
            let admins = adminGroup.isEmpty ? Caller.defaultAdminGroups : Set(adminGroup)
            // Every replica answers reviews (they only read), leader or not.
            let webhook = try makeWebhookServer(
                reviewer: AdmissionReviewer(store: store, adminGroups: admins), host: healthHost, port: webhookPort,
                certificatePEM: try String(contentsOfFile: webhookCert, encoding: .utf8), keyPEM: try String(contentsOfFile: webhookKey, encoding: .utf8),
                logger: logger
            ) { url in printFlushed("apideployer controller: admission webhook on \(url)") }
            services.append(.init(service: webhook))
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        try await http.shutdown()
        try await client.shutdown()
    }

    /// Every infrastructure type's driver; `ownCluster` is the cluster of Kubernetes
    /// infrastructures without a kubeconfig secret.
    static func drivers(http: HTTPClient, packages: any PackageSource, ownCluster: KubeClient?) -> [String: any InfrastructureDriver] {
        [
            "kubernetes": KubernetesDriver(ownCluster: ownCluster),
            "static": StaticDriver(http: http, packages: packages), "sagemaker": SageMakerDriver(http: http, packages: packages),
            "azureml": AzureMLDriver(http: http), "vertexai": VertexAIDriver(http: http, packages: packages), "snowpark": SnowparkDriver(http: http),
        ]
    }

    /// `/healthz` and `/readyz` (the process serves; whether it leads is in the Lease) and the
    /// Prometheus `/metrics` of the reconcilers.
    static func healthServer(host: String, port: Int, registry: PrometheusCollectorRegistry, logger: Logger) -> some Service {
        let router = Router()
        router.get("healthz") { _, _ in "ok" }
        router.get("readyz") { _, _ in "ok" }
        router.get("metrics") { _, _ -> String in
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            return String(decoding: buffer, as: UTF8.self)
        }
        return Application(
            router: router, configuration: .init(address: .hostname(host, port: port)),
            onServerRunning: { channel in printFlushed("apideployer controller: health on http://\(host):\(channel.localAddress?.port ?? port)") },
            logger: logger)
    }
}
