import DeployerModel
import Foundation
import Logging

/// Owns a node's services and generations on disk and the serving snapshot built from them.
///
/// Layout: `services/<id>/service.json` and `services/<id>/generations/<generation>/` (an
/// extracted, validated package). An import is staged in `services/<id>/staging-*`, validated
/// completely, then renamed into place before `service.json` names it, so a crash at any point
/// leaves the node serving what it served before; leftover uploads, staging folders and generation
/// folders that no record names are removed at start.
public actor NodeRuntime {
    public let dataDirectory: URL
    var records: [String: ServiceRecord] = [:]
    var packages: [String: [String: ValidatedPackage]] = [:]
    private let snapshot: SnapshotHolder
    /// The Python interpreter, worker script and code environments of Python endpoints.
    public let python: PythonEnvironments
    /// Whether mapped Python endpoints keep workers started (a serving node), rather than
    /// starting one per query (the offline admin tool).
    var keepsWorkersWarm = false

    /// The pooled clients of the PostgreSQL connections of the directory's `config.json`.
    public let postgres: PostgresConnections

    /// Loads every service and generation under `dataDirectory`; Python endpoints run with
    /// `python` (default: the interpreter of the directory's `config.json`).
    public init(dataDirectory: URL, python: PythonEnvironments? = nil, logger: Logger = Logger(label: "apinode")) throws {
        self.dataDirectory = dataDirectory
        snapshot = SnapshotHolder()
        let configuration = try NodeConfiguration.load(from: dataDirectory)
        self.python = try python ?? PythonEnvironments(dataDirectory: dataDirectory, python: configuration.python, logger: logger)
        postgres = PostgresConnections(settings: configuration.postgres ?? [:], logger: logger)
        let servicesFolder = dataDirectory.appendingPathComponent("services")
        try FileManager.default.createDirectory(at: servicesFolder, withIntermediateDirectories: true)
        let runFolder = dataDirectory.appendingPathComponent("run")
        for leftover in (try? FileManager.default.contentsOfDirectory(atPath: runFolder.path)) ?? [] where leftover.hasPrefix("upload-") {
            try? FileManager.default.removeItem(at: runFolder.appendingPathComponent(leftover))
        }
        for id in try FileManager.default.contentsOfDirectory(atPath: servicesFolder.path).sorted() {
            let folder = servicesFolder.appendingPathComponent(id)
            for leftover in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] where leftover.hasPrefix("staging-") {
                try? FileManager.default.removeItem(at: folder.appendingPathComponent(leftover))
            }
            guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent("service.json").path) else { continue }
            let record = try JSONDecoder.node.decode(ServiceRecord.self, from: data)
            records[id] = record
            Self.removeUnrecordedGenerations(of: record, in: folder)
            var loaded: [String: ValidatedPackage] = [:]
            for generation in record.generations {
                var package = try PackageValidator.validate(folder: folder.appendingPathComponent("generations/\(generation.id)"), postgres: postgres)
                package.python = try Self.pythonPools(of: package, environments: self.python)
                loaded[generation.id] = package
            }
            packages[id] = loaded
        }
        snapshot.replace(Self.table(records: records, packages: packages))
    }

    /// The current serving snapshot; cheap, lock-protected, callable from any thread.
    public nonisolated var table: ServingTable { snapshot.current }

    public func services() -> [ServiceRecord] { records.values.sorted { $0.id < $1.id } }

    public func service(_ id: String) throws -> ServiceRecord {
        guard let record = records[id] else { throw NodeError.notFound("service \"\(id)\" does not exist") }
        return record
    }

    public func createService(_ id: String) throws {
        guard NameRules.isIdentifier(id) else { throw NodeError.invalid("invalid service id \"\(id)\"") }
        guard records[id] == nil else { throw NodeError.conflict("service \"\(id)\" already exists") }
        try save(ServiceRecord(id: id))
    }

    public func deleteService(_ id: String) throws {
        _ = try service(id)
        records[id] = nil
        let removed = packages.removeValue(forKey: id)
        publish()
        drainPools(of: Array((removed ?? [:]).values))
        try FileManager.default.removeItem(at: folder(of: id))
    }

    /// Imports a package archive as a new generation named after the package's version.
    /// The generation is available, not active, until a mapping names it.
    @discardableResult
    public func importGeneration(service id: String, archive: URL, expectedGeneration: String? = nil) async throws -> String {
        _ = try service(id)
        let staging = folder(of: id).appendingPathComponent("staging-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: staging) }
        let package: ValidatedPackage
        do {
            try PackageArchive.extract(archive, to: staging)
            package = try PackageValidator.validate(folder: staging, postgres: postgres)
        } catch let error as PackageError {
            throw NodeError.invalid("the package was refused: \(error)")
        }
        let generation = package.manifest.version
        guard package.manifest.service == id else {
            throw NodeError.invalid("the package is for service \"\(package.manifest.service)\", not \"\(id)\"")
        }
        if let expectedGeneration, expectedGeneration != generation {
            throw NodeError.invalid("the package holds version \"\(generation)\", not \"\(expectedGeneration)\"")
        }
        try await loadPythonEndpoints(of: package)
        for id in package.endpointIDs {
            guard let endpoint = package.sqlQueries[id] else { continue }
            do {
                try await endpoint.checkOnServer()
            } catch let error as SQLEndpointError {
                throw NodeError.invalid("the package was refused: endpoint \(id) (connection \(endpoint.sql.connection ?? "")): \(error.message)")
            }
        }
        // Read after the Python check, which awaits: another call may have changed the record.
        var record = try service(id)
        guard !record.generations.contains(where: { $0.id == generation }) else {
            throw NodeError.conflict("generation \"\(generation)\" of \"\(id)\" already exists")
        }
        let destination = folder(of: id).appendingPathComponent("generations/\(generation)")
        try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        // Not recorded (checked above): the remains of an earlier failed import.
        try? FileManager.default.removeItem(at: destination)
        guard rename(staging.path, destination.path) == 0 else { throw NodeError.invalid("cannot move the generation into place") }
        record.generations.append(.init(id: generation, created: Date()))
        // Validated (and its models compiled) in staging; only its folder moved.
        var placed = ValidatedPackage(manifest: package.manifest, folder: destination, models: package.models, postgres: postgres)
        placed.python = try Self.pythonPools(of: placed, environments: python)
        packages[id, default: [:]][generation] = placed
        try save(record)
        return generation
    }

    public func setMapping(service id: String, _ mapping: GenerationMapping) throws {
        var record = try service(id)
        do {
            try mapping.validate(available: Set(record.generations.map(\.id)))
        } catch let error as DispatchError {
            throw NodeError.invalid("\(error)")
        }
        record.mapping = mapping
        record.enabled = true
        try save(record)
    }

    public func switchTo(service id: String, generation: String?) throws {
        let record = try service(id)
        guard let target = generation ?? record.generations.last?.id else { throw NodeError.invalid("service \"\(id)\" has no generation") }
        try setMapping(service: id, .single(target))
    }

    /// Deletes disabled services, and generations that no mapping uses.
    public func cleanUnused() throws -> (services: [String], generations: [String]) {
        var removedServices: [String] = []
        var removedGenerations: [String] = []
        for record in records.values.sorted(by: { $0.id < $1.id }) {
            if !record.enabled {
                try deleteService(record.id)
                removedServices.append(record.id)
                continue
            }
            let mapped = Set(record.mapping?.entries.map(\.generation) ?? [])
            let unused = record.generations.map(\.id).filter { !mapped.contains($0) }
            try removeGenerations(unused, of: record)
            removedGenerations += unused.map { "\(record.id)/\($0)" }
        }
        return (removedServices, removedGenerations)
    }

    /// Removes one generation that no mapping uses.
    public func removeGeneration(service id: String, generation: String) throws {
        let record = try service(id)
        guard record.generations.contains(where: { $0.id == generation }) else { throw NodeError.notFound("no generation \"\(generation)\"") }
        guard !(record.mapping?.entries.contains { $0.generation == generation } ?? false) else {
            throw NodeError.conflict("generation \"\(generation)\" is in the active mapping of \"\(id)\"")
        }
        try removeGenerations([generation], of: record)
    }

    private func removeGenerations(_ generations: [String], of record: ServiceRecord) throws {
        guard !generations.isEmpty else { return }
        var updated = record
        updated.generations.removeAll { generations.contains($0.id) }
        let removed = generations.compactMap { packages[record.id]?.removeValue(forKey: $0) }
        try save(updated)
        drainPools(of: removed)
        for generation in generations {
            try? FileManager.default.removeItem(at: folder(of: record.id).appendingPathComponent("generations/\(generation)"))
        }
    }

    /// Sets the pool tuning of one endpoint (ceil ≥ 1, queue ≥ 0, timeout ≥ 1 ms).
    public func setTuning(service id: String, endpoint: String, _ tuning: EndpointTuning) throws {
        var record = try service(id)
        guard tuning.ceil >= 1, tuning.queue >= 0, tuning.timeoutMs >= 1, tuning.floor >= 0, tuning.cruise >= 0 else {
            throw NodeError.invalid("tuning needs ceil ≥ 1, queue ≥ 0, timeoutMs ≥ 1, floor and cruise ≥ 0")
        }
        record.tuning = (record.tuning ?? [:]).merging([endpoint: tuning]) { _, new in new }
        try save(record)
    }

    /// Sets (or with nil removes) where the service's query events go.
    public func setLogging(service id: String, _ logging: QueryLogging?) throws {
        var record = try service(id)
        try logging?.validate()
        record.logging = logging
        try save(record)
    }

    /// Sets how the service's callers authenticate.
    public func setAuth(service id: String, _ auth: CallerAuth) throws {
        var record = try service(id)
        try auth.validate()
        record.auth = auth.mode == .public ? nil : auth
        try save(record)
    }

    public func setEnabled(service id: String, _ enabled: Bool) throws {
        var record = try service(id)
        record.enabled = enabled
        try save(record)
    }

    private func folder(of id: String) -> URL { dataDirectory.appendingPathComponent("services/\(id)") }

    /// A crash between moving a generation into place and recording it leaves a folder that no
    /// record names; it is removed so that the same version can be imported again.
    private static func removeUnrecordedGenerations(of record: ServiceRecord, in folder: URL) {
        let generations = folder.appendingPathComponent("generations")
        let recorded = Set(record.generations.map(\.id))
        for name in (try? FileManager.default.contentsOfDirectory(atPath: generations.path)) ?? [] where !recorded.contains(name) {
            try? FileManager.default.removeItem(at: generations.appendingPathComponent(name))
        }
    }

    /// Persists a record (atomically) and publishes the new snapshot.
    private func save(_ record: ServiceRecord) throws {
        try FileManager.default.createDirectory(at: folder(of: record.id), withIntermediateDirectories: true)
        // Owner-only: the record may hold event server keys.
        try AtomicFile.write(try JSONEncoder.node.encode(record), to: folder(of: record.id).appendingPathComponent("service.json"), permissions: 0o600)
        records[record.id] = record
        publish()
    }

    private func publish() {
        snapshot.replace(Self.table(records: records, packages: packages))
        if keepsWorkersWarm { Self.configurePools(records: records, packages: packages) }
    }

    private static func table(records: [String: ServiceRecord], packages: [String: [String: ValidatedPackage]]) -> ServingTable {
        ServingTable(services: records.values.map { record in
            ServingTable.Service(
                id: record.id, enabled: record.enabled, generations: packages[record.id] ?? [:], mapping: record.mapping,
                tuning: record.tuning ?? [:], logging: record.logging, callerGate: CallerGate(record.auth, http: .shared))
        })
    }
}

/// The current snapshot behind a lock: queries read it without hopping to the actor.
final class SnapshotHolder: @unchecked Sendable {
    private let lock = NSLock()
    private var table = ServingTable()

    var current: ServingTable { lock.withLock { table } }

    func replace(_ newTable: ServingTable) { lock.withLock { table = newTable } }
}

/// A refused admin operation.
public enum NodeError: Error, Sendable, Equatable, CustomStringConvertible {
    case notFound(String)
    case conflict(String)
    case invalid(String)

    public var description: String {
        switch self {
        case .notFound(let message), .conflict(let message), .invalid(let message): message
        }
    }

    /// The HTTP status of the admin API answer.
    public var status: Int {
        switch self {
        case .notFound: 404
        case .conflict: 409
        case .invalid: 400
        }
    }
}
