import DeployerModel
import Foundation
import Logging
import ReconcileKit
import ServiceLifecycle

/// The controller of the embedded deployer: informers over deployments, infrastructures,
/// published services and secrets; one work queue and `Controller` each for deployments and
/// infrastructures. A change to an infrastructure, a service or a secret re-queues the
/// deployments that depend on it (through the informers' indexes).
public struct DeployerController<C: Clock>: Service where C.Duration == Duration {
    public typealias StoreInformer = Informer<StoreListWatch, C>

    public let deployments: StoreInformer
    public let infrastructures: StoreInformer
    let services: StoreInformer
    let secrets: StoreInformer
    let deploymentController: Controller<C>
    let infrastructureController: Controller<C>

    /// Settings with defaults.
    public struct Settings: Sendable {
        public var deploymentWorkers = 8
        public var infrastructureWorkers = 2
        public init() {}
    }

    public init(
        store: any ResourceStore, drivers: [String: any InfrastructureDriver], hooks: HookRunner<C>, clock: C,
        settings: Settings = Settings(), now: @escaping @Sendable () -> Date = Date.init, logger: Logger, audit: (any AuditTrail)? = nil
    ) {
        deployments = Informer(
            source: StoreListWatch(store: store, kind: .serviceDeployment), clock: clock,
            indexers: [
                Index.infrastructure: { [Index.reference($0, "infrastructure")] },
                Index.service: { [Index.reference($0, "service")] },
                Index.owner: { [Index.owner(of: $0)] },
            ])
        infrastructures = Informer(source: StoreListWatch(store: store, kind: .infrastructure), clock: clock)
        services = Informer(source: StoreListWatch(store: store, kind: .publishedService), clock: clock)
        secrets = Informer(source: StoreListWatch(store: store, kind: .secret), clock: clock)
        let deploymentQueue = WorkQueue(clock: clock)
        let infrastructureQueue = WorkQueue(clock: clock)
        let deploymentInformer = deployments
        let reconciler = DeploymentReconciler(
            store: store, drivers: drivers, hooks: hooks, now: now, logger: logger, audit: audit,
            owners: { namespace, service, infrastructure in
                deploymentInformer.objects(index: Index.owner, value: "\(namespace)/\(service)/\(infrastructure)")
                    .sorted { Index.age(of: $0) < Index.age(of: $1) }
                    .map(\.key.name)
            })
        deploymentController = Controller(
            name: "servicedeployments", reconciler: reconciler, queue: deploymentQueue, workers: settings.deploymentWorkers, logger: logger)
        infrastructureController = Controller(
            name: "infrastructures", reconciler: InfrastructureReconciler(store: store, drivers: drivers, now: now),
            queue: infrastructureQueue, workers: settings.infrastructureWorkers, logger: logger)

        deployments.onChange { change in
            if Index.needsReconcile(change) { deploymentQueue.add(change.key) }
            // The next deployment of the same service and infrastructure may own it now.
            if change.new == nil, let old = change.old {
                for sibling in deploymentInformer.objects(index: Index.owner, value: Index.owner(of: old)) {
                    deploymentQueue.add(Index.key(sibling))
                }
            }
        }
        infrastructures.onChange { change in
            guard Index.needsReconcile(change) else { return }
            infrastructureQueue.add(change.key)
            for deployment in deploymentInformer.objects(index: Index.infrastructure, value: change.key) {
                deploymentQueue.add(Index.key(deployment))
            }
        }
        services.onChange { change in
            guard Index.needsReconcile(change) else { return }
            for deployment in deploymentInformer.objects(index: Index.service, value: change.key) {
                deploymentQueue.add(Index.key(deployment))
            }
        }
        let infrastructureInformer = infrastructures
        secrets.onChange { _ in
            // Secrets change rarely: everything that may name one is checked again.
            for infrastructure in infrastructureInformer.list() { infrastructureQueue.add(Index.key(infrastructure)) }
            for deployment in deploymentInformer.list() { deploymentQueue.add(Index.key(deployment)) }
        }
    }

    /// Runs the informers, waits until they have listed, then runs the controllers.
    public func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for informer in [deployments, infrastructures, services, secrets] {
                group.addTask { try await informer.run() }
            }
            group.addTask {
                // Shutdown may come before the first lists: then the controllers never start.
                await cancelWhenGracefulShutdown {
                    for informer in [deployments, infrastructures, services, secrets] { await informer.waitUntilSynced() }
                }
                guard [deployments, infrastructures, services, secrets].allSatisfy(\.hasSynced), !Task.isCancelled else { return }
                try await withThrowingTaskGroup(of: Void.self) { controllers in
                    controllers.addTask { try await deploymentController.run() }
                    controllers.addTask { try await infrastructureController.run() }
                    try await controllers.waitForAll()
                }
            }
            try await group.waitForAll()
        }
    }
}

/// Index names and the functions behind them.
enum Index {
    static let infrastructure = "infrastructure"
    static let service = "service"
    static let owner = "service-on-infrastructure"

    static func key(_ object: StoredObject) -> String { "\(object.key.namespace)/\(object.key.name)" }

    /// `namespace/NAME` where NAME is `spec.FIELD`.
    static func reference(_ object: StoredObject, _ field: String) -> String {
        "\(object.key.namespace)/\(object.document["spec"]?[field]?.stringValue ?? "")"
    }

    static func owner(of object: StoredObject) -> String {
        let spec = object.document["spec"]
        return "\(object.key.namespace)/\(spec?["service"]?.stringValue ?? "")/\(spec?["infrastructure"]?.stringValue ?? "")"
    }

    /// Creation time, then name: the order that decides which deployment owns a service.
    static func age(of object: StoredObject) -> String {
        (object.document["metadata"]?["creationTimestamp"]?.stringValue ?? "") + "/" + object.key.name
    }

    /// False for changes of status alone and for our finalizer being added (our own writes),
    /// which need no new reconcile. Deletion still counts: it sets `deletionTimestamp`.
    static func needsReconcile(_ change: CacheChange<StoredObject>) -> Bool {
        guard let old = change.old, let new = change.new else { return true }
        return withoutStatus(old) != withoutStatus(new)
    }

    private static func withoutStatus(_ object: StoredObject) -> JSONValue {
        var document = object.document
        document["status"] = nil
        document["metadata"]?["resourceVersion"] = nil
        document["metadata"]?["managedFields"] = nil
        document["metadata"]?["finalizers"] = nil
        return document
    }
}
