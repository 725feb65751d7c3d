import DeployerModel
import Foundation

/// A `dataset-lookup` endpoint: a table of a SQLite file of the package, looked up by its key
/// columns (indexed at import). Each item answers `found` and the row's columns as `data`.
final class LookupEndpoint: Sendable {
    let lookup: ServicePackageManifest.Lookup
    private let connections: IdleConnections<SQLiteFile>
    private let statement: String

    init(_ lookup: ServicePackageManifest.Lookup, database: String) {
        self.lookup = lookup
        connections = IdleConnections { try SQLiteFile(path: database, readOnly: true) }
        let conditions = lookup.keys.enumerated().map { "\(Self.quoted($1)) = ?\($0 + 1)" }.joined(separator: " AND ")
        statement = "SELECT * FROM \(Self.quoted(lookup.table)) WHERE \(conditions) LIMIT 1"
    }

    /// Checks at import that the table and its key columns exist, and indexes the keys.
    static func prepare(_ lookup: ServicePackageManifest.Lookup, database: String) throws {
        let file = try SQLiteFile(path: database, readOnly: false)
        let columns = try file.run("PRAGMA table_info(\(quoted(lookup.table)))").rows.compactMap { row -> String? in
            if case .text(let name) = row[1] { return name }
            return nil
        }
        guard !columns.isEmpty else { throw SQLEndpointError(message: "the database has no table \"\(lookup.table)\"") }
        if let missing = lookup.keys.first(where: { !columns.contains($0) }) {
            throw SQLEndpointError(message: "table \"\(lookup.table)\" has no key column \"\(missing)\" (columns: \(columns.joined(separator: ", ")))")
        }
        let keys = lookup.keys.map(quoted).joined(separator: ", ")
        _ = try file.run("CREATE INDEX IF NOT EXISTS \(quoted("apideployer_lookup_" + lookup.table)) ON \(quoted(lookup.table)) (\(keys))")
    }

    /// Answers the items (`data` objects holding every key column), in order.
    func find(_ items: [JSONValue], at paths: [String]) throws -> [JSONValue] {
        let keyValues = try zip(items, paths).map { item, path in try keys(of: item, at: path) }
        do {
            return try connections.with { file in
                try keyValues.map { values in
                    let result = try file.run(statement, parameters: values, limit: 1)
                    guard let row = result.rows.first else { return ["found": false, "data": .null] }
                    return ["found": true, "data": .object(Dictionary(zip(result.columns, row.map(\.json)), uniquingKeysWith: { first, _ in first }))]
                }
            }
        } catch let error as SQLEndpointError {
            throw QueryError(status: 500, errorType: "SQLError", message: error.message)
        }
    }

    private func keys(of item: JSONValue, at path: String) throws -> [String: SQLValue] {
        guard let data = item["data"]?.objectValue else { throw QueryError.badRequest("\"\(path).data\" must be an object of key columns") }
        var values: [String: SQLValue] = [:]
        for (index, key) in lookup.keys.enumerated() {
            let value: SQLValue
            switch data[key] {
            case .string(let text)?: value = .text(text)
            case .int(let number)?: value = .integer(number)
            case .double(let number)?: value = .real(number)
            case .bool(let flag)?: value = .integer(flag ? 1 : 0)
            default:
                throw QueryError.badRequest("\"\(path).data.\(key)\" is required: a string or a number", details: ["key": .string(key)])
            }
            values["?\(index + 1)"] = value
        }
        return values
    }

    /// An SQL identifier in double quotes.
    static func quoted(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}
