import ServiceLifecycle

/// Keeps the node's endpoint workers for as long as it serves: starts the `floor` Python workers
/// of mapped endpoints, and stops every worker and PostgreSQL connection at shutdown (listed
/// before the server, so it stops after the last query).
public struct EndpointWorkersService: Service {
    let runtime: NodeRuntime

    public init(runtime: NodeRuntime) { self.runtime = runtime }

    public func run() async throws {
        await runtime.startWorkers()
        try? await gracefulShutdown()
        await runtime.stopWorkers()
    }
}
