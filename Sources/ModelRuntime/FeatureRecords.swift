/// The features of a batch of query records, as read from a request: each distinct name is a
/// column, added once per batch, and the values of all records sit in one flat buffer — no
/// dictionary per record.
public struct FeatureRecords: Sendable {
    struct Cell: Sendable {
        let column: Int
        let value: FeatureValue
    }

    /// The feature names seen, in first-seen order; a record's values refer to them by position.
    public private(set) var names: [String] = []
    private(set) var cells: [Cell] = []
    /// Where each record's cells end in `cells`.
    private(set) var recordEnds: [Int] = []

    public init() {}

    /// Records given as dictionaries (tests and callers without a request to read).
    public init(_ records: [[String: FeatureValue]]) {
        var columns: [String: Int] = [:]
        for record in records {
            for (name, value) in record {
                let column = columns[name] ?? addColumn(named: name)
                columns[name] = column
                append(value, column: column)
            }
            endRecord()
        }
    }

    /// Makes room for `columns` names and their cells in one record without growing.
    public mutating func reserveCapacity(columns: Int) {
        names.reserveCapacity(columns)
        cells.reserveCapacity(columns)
        recordEnds.reserveCapacity(1)
    }

    /// The number of records.
    public var count: Int { recordEnds.count }

    /// Adds a feature name; returns its column.
    public mutating func addColumn(named name: String) -> Int {
        names.append(name)
        return names.count - 1
    }

    /// Adds a value of the record being read.
    public mutating func append(_ value: FeatureValue, column: Int) {
        cells.append(Cell(column: column, value: value))
    }

    /// Ends the record being read.
    public mutating func endRecord() {
        recordEnds.append(cells.count)
    }

    /// The cells of record `record`.
    func cells(of record: Int) -> ArraySlice<Cell> {
        cells[(record == 0 ? 0 : recordEnds[record - 1])..<recordEnds[record]]
    }

    /// Of `names`, those record `record` leaves missing (absent or null), in the given order.
    public func missing(_ names: [String], in record: Int) -> [String] {
        var present = Set<String>()
        for cell in cells(of: record) {
            if cell.value == .missing { present.remove(self.names[cell.column]) } else { present.insert(self.names[cell.column]) }
        }
        return names.filter { !present.contains($0) }
    }
}
