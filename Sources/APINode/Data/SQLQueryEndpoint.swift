import DeployerModel
import Foundation
import NIOPosix
import PostgresNIO

/// A `sql-query` endpoint, on a SQLite file of the package or a PostgreSQL connection of the
/// node: `POST query` binds the body's named parameters (never pastes them into the SQL) and
/// answers `columns` and `rows` as strings, or `updatedRows` for a statement that writes.
final class SQLQueryEndpoint: Sendable {
    private enum Backend {
        case sqlite(IdleConnections<SQLiteFile>)
        /// The client, the statement with `$n` placeholders, and the parameter of each `$n`.
        /// No registry: the package was validated off a node (`package build`, the deployer).
        case postgres(PostgresConnections?, connection: String, statement: String, order: [String])
    }

    let sql: ServicePackageManifest.SQL
    private let backend: Backend

    init(_ sql: ServicePackageManifest.SQL, folder: URL, postgres: PostgresConnections?) {
        self.sql = sql
        if let database = sql.database {
            let path = folder.appendingPathComponent(database).path
            backend = .sqlite(IdleConnections { try SQLiteFile(path: path, readOnly: false) })
        } else {
            let (statement, order) = SQLPlaceholders.positional(sql.query)
            backend = .postgres(postgres, connection: sql.connection ?? "", statement: statement, order: order)
        }
    }

    /// Checks at import what can be checked without a server: a SQLite statement compiles
    /// against its file; a connection is configured (on a node: `postgres` is given); the
    /// parameters are exactly the declared ones.
    static func validate(_ sql: ServicePackageManifest.SQL, folder: URL, postgres: PostgresConnections?) throws {
        let used: Set<String>
        if let database = sql.database {
            let file = try SQLiteFile(path: folder.appendingPathComponent(database).path, readOnly: true)
            do {
                used = Set(try file.parameterNames(sql.query))
            } catch let error as SQLEndpointError {
                throw SQLEndpointError(message: "the query does not compile: \(error.message)")
            }
        } else {
            let name = sql.connection ?? ""
            if let postgres, !postgres.has(name) { throw SQLEndpointError(message: "connection \"\(name)\" is not configured on this node") }
            used = Set(SQLPlaceholders.positional(sql.query).names)
        }
        try SQLParameters.checkDeclared(sql.parameters ?? [], used: used)
    }

    /// Asks the PostgreSQL server to plan the statement (nothing runs), so that an import whose
    /// statement the server refuses is refused too.
    func checkOnServer() async throws {
        guard case .postgres(let connections?, let name, let statement, let order) = backend else { return }
        var binds = PostgresBindings()
        for _ in order { binds.appendNull() }
        do {
            _ = try await connections.withSingleConnection(name) { connection in
                try await connection.query(PostgresQuery(unsafeSQL: "EXPLAIN " + statement, binds: binds), logger: connections.logger).get().rows.count
            }
        } catch let error as PSQLError {
            guard let message = error.serverInfo?[.message] else { throw SQLEndpointError(message: "the server could not be reached (\(error.code))") }
            throw SQLEndpointError(message: "the server refuses the query: \(message)")
        } catch is SQLEndpointError {
            throw SQLEndpointError(message: "connection \"\(name)\" is not configured on this node")
        } catch {
            throw SQLEndpointError(message: "the server could not be reached")
        }
    }

    func run(_ request: JSONValue) async throws -> JSONValue {
        let parameters = try SQLParameters.bind(request, declared: sql.parameters ?? [])
        let result: SQLResult
        do {
            switch backend {
            case .sqlite(let connections):
                let bound = Dictionary(uniqueKeysWithValues: parameters.map { (":" + $0.key, $0.value) })
                result = try await NIOThreadPool.singleton.runIfActive { [query = sql.query] in
                    try connections.with { try $0.run(query, parameters: bound) }
                }
            case .postgres(let connections, let name, let statement, let order):
                guard let connections else { throw SQLEndpointError(message: "connection \"\(name)\" is not configured on this node") }
                result = try await PostgresStatement.run(statement, binds: order.map { parameters[$0] ?? .null }, on: connections.client(name), logger: connections.logger)
            }
        } catch let error as SQLEndpointError {
            throw QueryError(status: 500, errorType: "SQLError", message: error.message)
        }
        return SQLParameters.answer(result)
    }
}

/// The parameters of SQL query endpoints: declared with a type, given by name in the body.
enum SQLParameters {
    static func checkDeclared(_ declared: [ServicePackageManifest.SQL.Parameter], used: Set<String>) throws {
        let names = Set(declared.map(\.name))
        if let undeclared = used.subtracting(names).sorted().first {
            throw SQLEndpointError(message: "the query uses :\(undeclared), which sql.parameters does not declare")
        }
        if let unused = names.subtracting(used).sorted().first {
            throw SQLEndpointError(message: "sql.parameters declares \(unused), which the query does not use")
        }
    }

    /// The body's values, checked against the declared types; every declared parameter is
    /// required (null allowed) and no other key is accepted.
    static func bind(_ request: JSONValue, declared: [ServicePackageManifest.SQL.Parameter]) throws -> [String: SQLValue] {
        guard let body = request.objectValue else { throw QueryError.badRequest("the body must be a JSON object of named parameters") }
        let declaredNames = Set(declared.map(\.name))
        if let unknown = body.keys.filter({ !declaredNames.contains($0) }).sorted().first {
            throw QueryError.badRequest("unknown parameter \"\(unknown)\"; the query takes \(declared.map(\.name).joined(separator: ", "))", details: ["parameter": .string(unknown)])
        }
        var values: [String: SQLValue] = [:]
        for parameter in declared {
            guard let value = body[parameter.name] else {
                throw QueryError.badRequest("parameter \"\(parameter.name)\" is required", details: ["parameter": .string(parameter.name)])
            }
            guard let bound = convert(value, to: parameter.type) else {
                throw QueryError.badRequest("parameter \"\(parameter.name)\" must be a \(parameter.type)", details: ["parameter": .string(parameter.name)])
            }
            values[parameter.name] = bound
        }
        return values
    }

    private static func convert(_ value: JSONValue, to type: String) -> SQLValue? {
        switch (type, value) {
        case (_, .null): .null
        case ("string", .string(let text)): .text(text)
        case ("int", .int(let number)): .integer(number)
        case ("int", .double(let number)) where number.rounded() == number && abs(number) < 9e15: .integer(Int64(number))
        case ("float", .int(let number)): .real(Double(number))
        case ("float", .double(let number)): .real(number)
        case ("boolean", .bool(let flag)): .boolean(flag)
        default: nil
        }
    }

    /// `{"columns", "rows"}` (strings) for a query, `{"updatedRows"}` for a statement that writes.
    static func answer(_ result: SQLResult) -> JSONValue {
        if let changed = result.changedRows, result.columns.isEmpty { return ["updatedRows": .int(Int64(changed))] }
        return ["columns": .array(result.columns.map { .string($0) }), "rows": .array(result.rows.map { .array($0.map(\.text)) })]
    }
}
