/// `service.yaml` at the root of a package archive: the service, its version and its endpoints.
public struct ServicePackageManifest: Codable, Sendable, Hashable {
    /// The endpoint kinds a package may hold.
    public enum EndpointType: String, Codable, Sendable, Hashable, CaseIterable {
        case prediction
        case pythonPrediction = "python-prediction"
        case function
        case sqlQuery = "sql-query"
        case datasetLookup = "dataset-lookup"
    }

    /// Python code of a `python-prediction` (class) or `function` (function) endpoint.
    public struct Python: Codable, Sendable, Hashable {
        public var file: String
        public var `class`: String?
        public var function: String?
        public var requirements: String?
    }

    /// A parametrised SQL query against a SQLite file of the package or a named connection.
    public struct SQL: Codable, Sendable, Hashable {
        public struct Parameter: Codable, Sendable, Hashable {
            public var name: String
            public var type: String
        }

        public var database: String?
        public var connection: String?
        public var query: String
        public var parameters: [Parameter]?
    }

    /// A table of a SQLite file, looked up by its key columns.
    public struct Lookup: Codable, Sendable, Hashable {
        public var database: String
        public var table: String
        public var keys: [String]
    }

    public struct Endpoint: Codable, Sendable, Hashable {
        public var id: String
        public var type: EndpointType
        /// ONNX model file (`prediction`).
        public var model: String?
        /// Names of class labels that the model gives as indices.
        public var classes: [String]?
        /// Column names, in order, of a model whose single input holds every feature.
        public var features: [String]?
        public var python: Python?
        public var sql: SQL?
        public var lookup: Lookup?
    }

    public var apiVersion: String
    public var kind: String
    public var service: String
    public var version: String
    public var endpoints: [Endpoint]

    /// Every file the manifest names, with the field that names it.
    public var referencedFiles: [(field: String, path: String)] {
        var files: [(String, String)] = []
        for (index, endpoint) in endpoints.enumerated() {
            let base = "endpoints[\(index)]"
            if let model = endpoint.model { files.append(("\(base).model", model)) }
            if let python = endpoint.python {
                files.append(("\(base).python.file", python.file))
                if let requirements = python.requirements { files.append(("\(base).python.requirements", requirements)) }
            }
            if let database = endpoint.sql?.database { files.append(("\(base).sql.database", database)) }
            if let database = endpoint.lookup?.database { files.append(("\(base).lookup.database", database)) }
        }
        return files
    }
}
