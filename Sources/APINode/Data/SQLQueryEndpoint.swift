import DeployerModel
import Foundation
import NIOPosix

/// A `sql-query` endpoint on a SQLite file of the package: `POST query` binds the body's named
/// parameters (never pastes them into the SQL) and answers `columns` and `rows` as strings, or
/// `updatedRows` for a statement that writes.
final class SQLQueryEndpoint: Sendable {
    let sql: ServicePackageManifest.SQL
    private let connections: IdleConnections<SQLiteFile>

    init(_ sql: ServicePackageManifest.SQL, database: String) {
        self.sql = sql
        connections = IdleConnections { try SQLiteFile(path: database, readOnly: false) }
    }

    /// Checks at import that the statement compiles against the file and that its parameters
    /// are exactly the declared ones; errors name what is wrong.
    static func validate(_ sql: ServicePackageManifest.SQL, database: String) throws {
        let file = try SQLiteFile(path: database, readOnly: true)
        let used: Set<String>
        do {
            used = Set(try file.parameterNames(sql.query))
        } catch let error as SQLiteError {
            throw SQLiteError(message: "the query does not compile: \(error.message)")
        }
        try SQLParameters.checkDeclared(sql.parameters ?? [], used: used)
    }

    func run(_ request: JSONValue) async throws -> JSONValue {
        let parameters = try SQLParameters.bind(request, declared: sql.parameters ?? [], booleanAsInteger: true)
        let bound = Dictionary(uniqueKeysWithValues: parameters.map { (":" + $0.key, $0.value) })
        let result: SQLResult
        do {
            result = try await NIOThreadPool.singleton.runIfActive { [connections, query = sql.query] in
                try connections.with { try $0.run(query, parameters: bound) }
            }
        } catch let error as SQLiteError {
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
            throw SQLiteError(message: "the query uses :\(undeclared), which sql.parameters does not declare")
        }
        if let unused = names.subtracting(used).sorted().first {
            throw SQLiteError(message: "sql.parameters declares \(unused), which the query does not use")
        }
    }

    /// The body's values, checked against the declared types; every declared parameter is
    /// required (null allowed) and no other key is accepted.
    static func bind(_ request: JSONValue, declared: [ServicePackageManifest.SQL.Parameter], booleanAsInteger: Bool) throws -> [String: SQLValue] {
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
            guard let bound = convert(value, to: parameter.type, booleanAsInteger: booleanAsInteger) else {
                throw QueryError.badRequest("parameter \"\(parameter.name)\" must be a \(parameter.type)", details: ["parameter": .string(parameter.name)])
            }
            values[parameter.name] = bound
        }
        return values
    }

    private static func convert(_ value: JSONValue, to type: String, booleanAsInteger: Bool) -> SQLValue? {
        switch (type, value) {
        case (_, .null): .null
        case ("string", .string(let text)): .text(text)
        case ("int", .int(let number)): .integer(number)
        case ("int", .double(let number)) where number.rounded() == number && abs(number) < 9e15: .integer(Int64(number))
        case ("float", .int(let number)): .real(Double(number))
        case ("float", .double(let number)): .real(number)
        case ("boolean", .bool(let flag)): booleanAsInteger ? .integer(flag ? 1 : 0) : .text(flag ? "true" : "false")
        default: nil
        }
    }

    /// `{"columns", "rows"}` (strings) for a query, `{"updatedRows"}` for a statement that writes.
    static func answer(_ result: SQLResult) -> JSONValue {
        if let changed = result.changedRows, result.columns.isEmpty { return ["updatedRows": .int(Int64(changed))] }
        return ["columns": .array(result.columns.map { .string($0) }), "rows": .array(result.rows.map { .array($0.map(\.text)) })]
    }
}
