import DeployerModel

/// Prints `meta.k8s.io/v1` Tables the way kubectl does: upper-case headers, columns padded,
/// three spaces apart; priority columns only when wide.
struct TablePrinter {
    let wide: Bool

    func columns(of table: JSONValue) -> [Int] {
        (table["columnDefinitions"]?.arrayValue ?? []).enumerated().compactMap { index, column in
            wide || (column["priority"]?.intValue ?? 0) == 0 ? index : nil
        }
    }

    func lines(_ table: JSONValue, header: Bool) -> [String] {
        let selected = columns(of: table)
        let definitions = table["columnDefinitions"]?.arrayValue ?? []
        var rows: [[String]] = []
        if header { rows.append(selected.map { (definitions[$0]["name"]?.stringValue ?? "").uppercased() }) }
        for row in table["rows"]?.arrayValue ?? [] {
            let cells = row["cells"]?.arrayValue ?? []
            rows.append(selected.map { $0 < cells.count ? JSONPathExpression.text(cells[$0]) : "" })
        }
        return Self.aligned(rows)
    }

    /// Rows as lines with padded columns, three spaces apart.
    static func aligned(_ rows: [[String]]) -> [String] {
        guard let width = rows.first?.count else { return [] }
        let widths = (0..<width).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, text in
                column == width - 1 ? text : text.padding(toLength: widths[column] + 3, withPad: " ", startingAt: 0)
            }.joined().trimmingCharacters(in: .whitespaces)
        }
    }
}

import Foundation

/// Prints a table with an upper-case header, kubectl style.
func printTable(header: [String], rows: [[String]]) {
    TablePrinter.aligned([header] + rows).forEach { print($0) }
}
