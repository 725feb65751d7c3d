import Foundation
import Logging
import PostgresNIO

/// Runs one statement on a pooled PostgreSQL client and reads its cells as `SQLValue`s.
enum PostgresStatement {
    static func run(_ statement: String, binds values: [SQLValue], on client: PostgresClient, logger: Logger) async throws -> SQLResult {
        var binds = PostgresBindings()
        for value in values {
            switch value {
            case .null: binds.appendNull()
            case .integer(let number): binds.append(Int(number))
            case .real(let number): binds.append(number)
            case .boolean(let flag): binds.append(flag)
            case .text(let text): binds.append(text)
            case .blob(let bytes): binds.append(ByteBuffer(bytes: bytes))
            }
        }
        let result: PostgresQueryResult
        do {
            result = try await client.withConnection { connection in
                try await connection.query(PostgresQuery(unsafeSQL: statement, binds: binds), logger: logger).get()
            }
        } catch let error as PSQLError {
            throw SQLEndpointError(message: error.serverInfo?[.message] ?? "the PostgreSQL server could not be reached (\(error.code))")
        } catch {
            throw SQLEndpointError(message: "the PostgreSQL server could not be reached")
        }
        let columns = result.rows.first.map { row in row.map(\.columnName) } ?? []
        let rows = try result.rows.map { row in try row.map(value) }
        let writes = ["INSERT", "UPDATE", "DELETE", "MERGE"].contains(result.metadata.command)
        return SQLResult(columns: columns, rows: rows, changedRows: writes ? result.metadata.rows : nil)
    }

    /// A cell as its closest value; types without a match are read as their text.
    private static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .bool: return .boolean(try cell.decode(Bool.self))
        case .int2, .int4, .int8, .oid: return .integer(Int64(try cell.decode(Int.self)))
        case .float4, .float8: return .real(try cell.decode(Double.self))
        case .numeric: return .text(try cell.decode(Decimal.self).description)
        case .bytea: return .blob(Array(try cell.decode(ByteBuffer.self).readableBytesView))
        case .uuid: return .text(try cell.decode(UUID.self).uuidString.lowercased())
        case .timestamp, .timestamptz, .date: return .text(try cell.decode(Date.self).formatted(.iso8601))
        default:
            if let text = try? cell.decode(String.self) { return .text(text) }
            return .blob(Array(cell.bytes?.readableBytesView ?? ByteBuffer().readableBytesView))
        }
    }
}
