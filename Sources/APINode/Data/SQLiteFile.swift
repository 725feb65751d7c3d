import DeployerModel
import Foundation
import VaporCSQLite

/// A value bound to or read from SQL.
enum SQLValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case boolean(Bool)
    case text(String)
    case blob([UInt8])

    /// The JSON of a value as typed (lookups).
    var json: JSONValue {
        switch self {
        case .null: .null
        case .integer(let number): .int(number)
        case .real(let number): .double(number)
        case .boolean(let flag): .bool(flag)
        case .text(let text): .string(text)
        case .blob(let bytes): .string(Data(bytes).base64EncodedString())
        }
    }

    /// The text of a value (`rows` of a SQL query endpoint are strings); null stays null.
    var text: JSONValue {
        switch self {
        case .null: .null
        case .integer(let number): .string(String(number))
        case .real(let number): .string(String(number))
        case .boolean(let flag): .string(flag ? "true" : "false")
        case .text(let text): .string(text)
        case .blob(let bytes): .string(Data(bytes).base64EncodedString())
        }
    }
}

/// The result of one statement: its columns and rows, or how many rows it changed.
struct SQLResult: Sendable {
    var columns: [String]
    var rows: [[SQLValue]]
    /// Set for a statement that writes.
    var changedRows: Int?
}

/// What is wrong with a SQL statement, a database or a connection.
struct SQLEndpointError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// One SQLite connection, used by one query at a time (its owner sees to that). The SQLite
/// library is the one sqlite-nio vendors, used directly: statements are bound by parameter name,
/// and a query's column names are known even when it returns no row.
final class SQLiteFile: @unchecked Sendable {
    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]

    init(path: String, readOnly: Bool) throws {
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX
        guard FileManager.default.fileExists(atPath: path) else { throw SQLEndpointError(message: "no database file \(path)") }
        let status = sqlite_nio_sqlite3_open_v2(path, &handle, flags, nil)
        guard status == SQLITE_OK else {
            defer { sqlite_nio_sqlite3_close(handle) }
            throw SQLEndpointError(message: "cannot open \(path): \(String(cString: sqlite_nio_sqlite3_errstr(status)))")
        }
        sqlite_nio_sqlite3_busy_timeout(handle, 5_000)
    }

    deinit {
        for statement in statements.values { sqlite_nio_sqlite3_finalize(statement) }
        sqlite_nio_sqlite3_close(handle)
    }

    /// Compiles `sql` (kept for reuse); throws SQLite's message for a statement it cannot run.
    @discardableResult
    func prepare(_ sql: String) throws -> OpaquePointer {
        if let statement = statements[sql] { return statement }
        var statement: OpaquePointer?
        guard sqlite_nio_sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else { throw lastError() }
        statements[sql] = statement
        return statement
    }

    /// The `:name` parameters a statement uses, in order.
    func parameterNames(_ sql: String) throws -> [String] {
        let statement = try prepare(sql)
        return (0..<sqlite_nio_sqlite3_bind_parameter_count(statement)).compactMap { index in
            sqlite_nio_sqlite3_bind_parameter_name(statement, index + 1).map { String(String(cString: $0).dropFirst()) }
        }
    }

    /// Runs `sql` with `parameters` bound by their names as the statement writes them
    /// (`:email`, `?1`).
    func run(_ sql: String, parameters: [String: SQLValue] = [:], limit: Int = .max) throws -> SQLResult {
        let statement = try prepare(sql)
        defer {
            sqlite_nio_sqlite3_reset(statement)
            sqlite_nio_sqlite3_clear_bindings(statement)
        }
        for (name, value) in parameters {
            let index = sqlite_nio_sqlite3_bind_parameter_index(statement, name)
            guard index > 0 else { continue }
            try bind(value, at: index, of: statement)
        }
        let count = sqlite_nio_sqlite3_column_count(statement)
        let columns = (0..<count).map { String(cString: sqlite_nio_sqlite3_column_name(statement, $0)) }
        var rows: [[SQLValue]] = []
        while rows.count < limit {
            let status = sqlite_nio_sqlite3_step(statement)
            if status == SQLITE_DONE { break }
            guard status == SQLITE_ROW else { throw lastError() }
            rows.append((0..<count).map { value(at: $0, of: statement) })
        }
        let writes = sqlite_nio_sqlite3_stmt_readonly(statement) == 0
        return SQLResult(columns: columns, rows: rows, changedRows: writes ? Int(sqlite_nio_sqlite3_changes(handle)) : nil)
    }

    private func bind(_ value: SQLValue, at index: Int32, of statement: OpaquePointer) throws {
        let status: Int32
        switch value {
        case .null: status = sqlite_nio_sqlite3_bind_null(statement, index)
        case .integer(let number): status = sqlite_nio_sqlite3_bind_int64(statement, index, number)
        case .real(let number): status = sqlite_nio_sqlite3_bind_double(statement, index, number)
        case .boolean(let flag): status = sqlite_nio_sqlite3_bind_int64(statement, index, flag ? 1 : 0)
        case .text(let text): status = sqlite_nio_sqlite3_bind_text(statement, index, text, -1, Self.transient)
        case .blob(let bytes): status = sqlite_nio_sqlite3_bind_blob(statement, index, bytes, Int32(bytes.count), Self.transient)
        }
        guard status == SQLITE_OK else { throw lastError() }
    }

    private func value(at column: Int32, of statement: OpaquePointer) -> SQLValue {
        switch sqlite_nio_sqlite3_column_type(statement, column) {
        case SQLITE_INTEGER: return .integer(sqlite_nio_sqlite3_column_int64(statement, column))
        case SQLITE_FLOAT: return .real(sqlite_nio_sqlite3_column_double(statement, column))
        case SQLITE_TEXT: return .text(String(cString: sqlite_nio_sqlite3_column_text(statement, column)))
        case SQLITE_BLOB:
            let count = Int(sqlite_nio_sqlite3_column_bytes(statement, column))
            guard count > 0, let bytes = sqlite_nio_sqlite3_column_blob(statement, column) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: bytes, count: count)))
        default: return .null
        }
    }

    private func lastError() -> SQLEndpointError { SQLEndpointError(message: String(cString: sqlite_nio_sqlite3_errmsg(handle))) }

    /// SQLite copies bound text and blobs (`SQLITE_TRANSIENT`).
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}
