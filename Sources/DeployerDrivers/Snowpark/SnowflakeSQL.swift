import CloudHTTP
import DeployerCore
import DeployerModel
import Foundation

/// Snowflake's SQL API v2 (reference §5.1) through a bearer client carrying key-pair JWTs: one
/// statement per request with the infrastructure's context, a fresh `requestId` per statement
/// (kept across the client's retries, so a resent statement is not run twice), 202 answers
/// polled through their handle, 422 failures turned into driver errors with Snowflake's code.
struct SnowflakeSQL: Sendable {
    static let maximumPolls = 60

    let client: BearerClient
    let base: String
    let context: JSONValue
    let pause: @Sendable (Duration) async throws -> Void

    /// The rows of `statement` as column name → cell (every cell a string or nil).
    func run(_ statement: String) async throws -> [[String: String?]] {
        let url = "\(base)/api/v2/statements?requestId=\(UUID().uuidString.lowercased())"
        var body = context
        body["statement"] = .string(statement)
        body["timeout"] = 60
        var answer = try await client.send(.POST, url, body: body)
        for _ in 0..<Self.maximumPolls where answer.status == 202 {
            guard let status = answer.body["statementStatusUrl"]?.stringValue else { break }
            try await pause(.seconds(1))
            answer = try await client.send(.GET, base + status)
        }
        guard answer.status == 200 else {
            let code = answer.body["code"]?.stringValue ?? ""
            let message = answer.body["message"]?.stringValue ?? ""
            let what = statement.split(separator: "\n").first.map(String.init) ?? statement
            if answer.status == 202 { throw DriverError("\(what) is still running; looked at again later") }
            throw DriverError(
                "\(what): HTTP \(answer.status) \(code) \(message)".trimmingCharacters(in: .whitespaces),
                isPermanent: answer.status == 422 || [400, 403, 404].contains(answer.status))
        }
        let columns = (answer.body["resultSetMetaData"]?["rowType"]?.arrayValue ?? []).map { $0["name"]?.stringValue ?? "" }
        return (answer.body["data"]?.arrayValue ?? []).map { row in
            var cells: [String: String?] = [:]
            for (index, cell) in (row.arrayValue ?? []).enumerated() where index < columns.count { cells[columns[index]] = cell.stringValue }
            return cells
        }
    }

    /// Whether `text` is a plain SQL identifier (the names put into statements unquoted).
    static func isIdentifier(_ text: String) -> Bool { text.wholeMatch(of: /[A-Za-z_][A-Za-z0-9_$]{0,254}/) != nil }
}
