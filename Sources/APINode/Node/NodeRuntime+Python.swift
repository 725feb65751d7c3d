import DeployerModel
import Foundation

/// The worker pools of Python endpoints follow the generations: created when a generation is
/// loaded, `floor` workers started while it is mapped, drained when it is unmapped or removed.
extension NodeRuntime {
    /// Loads each Python endpoint's code once in a worker (building its code environment
    /// first), so that an import whose code or requirements fail is refused.
    func loadPythonEndpoints(of package: ValidatedPackage) async throws {
        for endpoint in package.manifest.endpoints {
            guard let requirements = endpoint.python?.requirements else { continue }
            do {
                _ = try await python.interpreter(requirements: package.folder.appendingPathComponent(requirements))
            } catch let error as PythonLoadError {
                throw NodeError.invalid("the package was refused: endpoint \(endpoint.id) (\(requirements)): \(error.message)")
            }
        }
        let launches = try Self.launches(of: package, environments: python)
        for endpoint in package.manifest.endpoints {
            guard let launch = launches[endpoint.id] else { continue }
            do {
                let worker = try await PythonWorker.start(launch, logger: python.logger)
                worker.stop()
                await worker.waitUntilEnded()
            } catch let error as PythonLoadError {
                throw NodeError.invalid("the package was refused: endpoint \(endpoint.id) (\(endpoint.python?.file ?? "")): \(error.message)")
            }
        }
    }

    /// Starts the `floor` workers of mapped Python endpoints and keeps pools sized from now on
    /// (the node starts serving).
    public func startWorkers() {
        keepsWorkersWarm = true
        Self.configurePools(records: records, packages: packages)
    }

    /// Stops every Python worker and closes the PostgreSQL connections (the node stops).
    public func stopWorkers() async {
        keepsWorkersWarm = false
        for pool in packages.values.flatMap(\.values).flatMap(\.python.values) { await pool.close() }
        await postgres.shutdown()
    }

    /// Pools (without workers yet) for the Python endpoints of a package in its final folder.
    static func pythonPools(of package: ValidatedPackage, environments: PythonEnvironments) throws -> [String: PythonWorkerPool] {
        let launches = try launches(of: package, environments: environments)
        return launches.mapValues { PythonWorkerPool(launch: $0, tuning: .defaults, idleGrace: environments.idleGrace, logger: environments.logger) }
    }

    /// Gives every pool its endpoint's tuning and whether its generation is mapped.
    static func configurePools(records: [String: ServiceRecord], packages: [String: [String: ValidatedPackage]]) {
        for (id, generations) in packages {
            guard let record = records[id] else { continue }
            let mapped = Set(record.mapping?.entries.map(\.generation) ?? [])
            for (generation, package) in generations {
                for (endpoint, pool) in package.python {
                    pool.configure(tuning: record.tuning?[endpoint] ?? .defaults, active: record.enabled && mapped.contains(generation))
                }
            }
        }
    }

    /// Drains the pools of removed generations and drops code environments no one uses.
    func drainPools(of removed: [ValidatedPackage]) {
        for pool in removed.flatMap(\.python.values) { pool.drain() }
        let used = Set(packages.values.flatMap(\.values).flatMap(\.python.values).map(\.launch.python))
        Task { [python] in await python.removeUnused(keeping: used) }
    }

    private static func launches(of package: ValidatedPackage, environments: PythonEnvironments) throws -> [String: PythonLaunch] {
        var launches: [String: PythonLaunch] = [:]
        for endpoint in package.manifest.endpoints {
            guard let code = endpoint.python else { continue }
            let interpreter = try environments.interpreterPath(requirements: code.requirements.map { package.folder.appendingPathComponent($0) })
            launches[endpoint.id] = launch(endpoint, code, package: package, python: interpreter.path, workerFolder: environments.workerFolder)
        }
        return launches
    }

    private static func launch(
        _ endpoint: ServicePackageManifest.Endpoint, _ code: ServicePackageManifest.Python, package: ValidatedPackage, python: String, workerFolder: String
    ) -> PythonLaunch {
        PythonLaunch(
            python: python, kind: endpoint.type == .function ? .function : .prediction,
            file: package.folder.appendingPathComponent(code.file).path, name: code.function ?? code.class ?? "",
            classes: endpoint.classes, packageFolder: package.folder.path, workerFolder: workerFolder)
    }
}
