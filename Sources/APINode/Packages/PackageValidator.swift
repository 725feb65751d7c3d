import DeployerModel
import Foundation
import ModelRuntime

/// A package whose every part was checked: the manifest, every named file, and every model
/// (loaded, all operators supported, features and outputs mappable).
public struct ValidatedPackage: Sendable {
    public let manifest: ServicePackageManifest
    public let folder: URL
    /// Compiled models by endpoint id, ready to serve.
    public let models: [String: PredictionModel]
    /// SQL query endpoints by id.
    let sqlQueries: [String: SQLQueryEndpoint]
    /// Dataset lookup endpoints by id.
    let lookups: [String: LookupEndpoint]
    /// Worker pools of the Python endpoints by endpoint id (set by the node once the package
    /// is in place).
    public internal(set) var python: [String: PythonWorkerPool] = [:]

    /// A package in `folder`, its SQL and lookup endpoints opening their files there (or using
    /// the node's PostgreSQL connections).
    init(manifest: ServicePackageManifest, folder: URL, models: [String: PredictionModel], postgres: PostgresConnections?) {
        self.manifest = manifest
        self.folder = folder
        self.models = models
        var sqlQueries: [String: SQLQueryEndpoint] = [:]
        var lookups: [String: LookupEndpoint] = [:]
        for endpoint in manifest.endpoints {
            if let sql = endpoint.sql { sqlQueries[endpoint.id] = SQLQueryEndpoint(sql, folder: folder, postgres: postgres) }
            if let lookup = endpoint.lookup {
                lookups[endpoint.id] = LookupEndpoint(lookup, database: folder.appendingPathComponent(lookup.database).path)
            }
        }
        self.sqlQueries = sqlQueries
        self.lookups = lookups
    }

    /// Every endpoint id of the package.
    var endpointIDs: [String] { manifest.endpoints.map(\.id) }
}

/// A compiled prediction endpoint: model, feature mapping and output reading.
public struct PredictionModel: Sendable {
    public let model: CompiledModel
    public let features: FeatureMapping
    public let reader: PredictionReader
}

/// Checks an extracted package completely, so that nothing about it can fail at query time.
public enum PackageValidator {
    public static func validate(folder: URL, postgres: PostgresConnections? = nil) throws -> ValidatedPackage {
        let manifestURL = folder.appendingPathComponent("service.yaml")
        guard let text = try? String(contentsOf: manifestURL, encoding: .utf8) else { throw PackageError.missingManifest("the package") }
        let document: JSONValue
        do {
            guard let first = try JSONValue.parseYAMLDocuments(text).first else { throw PackageError.invalidManifest("service.yaml is empty") }
            document = first
        } catch let error as PackageError {
            throw error
        } catch {
            throw PackageError.invalidManifest("service.yaml: \(error)")
        }
        let manifest: ServicePackageManifest
        do {
            manifest = try ServicePackageManifest.validated(document, files: Set(try PackageArchive.regularFiles(in: folder)))
        } catch let error as PackageManifestError {
            throw PackageError.invalidManifest(error.description)
        }
        var models: [String: PredictionModel] = [:]
        for endpoint in manifest.endpoints where endpoint.type == .prediction {
            guard let path = endpoint.model else { continue }
            do {
                let model = try CompiledModel(onnx: try Data(contentsOf: folder.appendingPathComponent(path)))
                models[endpoint.id] = PredictionModel(
                    model: model, features: try FeatureMapping(model: model, featureOrder: endpoint.features),
                    reader: try PredictionReader(model: model, classes: endpoint.classes))
            } catch let error as ModelError {
                throw PackageError.invalidEndpoint(endpoint: endpoint.id, file: path, reason: error.description)
            }
        }
        for endpoint in manifest.endpoints {
            do {
                if let sql = endpoint.sql { try SQLQueryEndpoint.validate(sql, folder: folder, postgres: postgres) }
                if let lookup = endpoint.lookup { try LookupEndpoint.prepare(lookup, database: folder.appendingPathComponent(lookup.database).path) }
            } catch let error as SQLEndpointError {
                let source = endpoint.sql?.database ?? endpoint.lookup?.database ?? "connection \(endpoint.sql?.connection ?? "")"
                throw PackageError.invalidEndpoint(endpoint: endpoint.id, file: source, reason: error.message)
            }
        }
        return ValidatedPackage(manifest: manifest, folder: folder, models: models, postgres: postgres)
    }
}
