import ServiceLifecycle

/// Keeps the node's Python worker pools for as long as it serves: starts the `floor` workers of
/// mapped endpoints, and stops every worker at shutdown (listed before the server, so it stops
/// after the last query).
public struct PythonWorkersService: Service {
    let runtime: NodeRuntime

    public init(runtime: NodeRuntime) { self.runtime = runtime }

    public func run() async throws {
        await runtime.startPythonWorkers()
        try? await gracefulShutdown()
        await runtime.stopPythonWorkers()
    }
}
