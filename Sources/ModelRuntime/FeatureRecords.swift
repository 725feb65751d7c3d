/// The features of a batch of query records, as read from a request: each distinct name is a
/// column, added once per batch, and the values sit in one row-major matrix of numbers — no
/// dictionary and no enum per value, so that a model's float columns are filled by a strided
/// copy.
///
/// A string value is stored as a NaN whose payload is its index in `strings` plus one; a
/// missing value (absent or null) is the plain NaN. Query numbers are never NaN (JSON has
/// none), and a NaN given through `set(_:column:)` is taken as missing.
public struct FeatureRecords: Sendable {
    /// The feature names seen, in first-seen order; a column is a position in this list.
    public private(set) var names: [String] = []
    /// `count` rows of `names.count` values (plus the record being read, if any).
    private var values: [Double] = []
    private var strings: [String] = []
    /// The number of records ended.
    public private(set) var count = 0
    /// Rows of values the record-reading reserves room for (`reserveCapacity(records:)`).
    private var reservedRows = 1

    public init() {}

    /// Records given as dictionaries (tests and callers without a request to read).
    public init(_ records: [[String: FeatureValue]]) {
        var columns: [String: Int] = [:]
        for record in records {
            beginRecord()
            for (name, value) in record {
                let column = columns[name] ?? addColumn(named: name)
                columns[name] = column
                switch value {
                case .number(let number): set(number, column: column)
                case .string(let text): set(text, column: column)
                case .missing: break
                }
            }
            endRecord()
        }
    }

    /// Makes room for `columns` names and one record of their values without growing.
    public mutating func reserveCapacity(columns: Int) {
        names.reserveCapacity(columns)
        values.reserveCapacity(columns)
    }

    /// Makes room for about `records` records of the current width (and their strings) without
    /// growing.
    public mutating func reserveCapacity(records: Int) {
        reservedRows = max(records, 1)
        values.reserveCapacity(reservedRows * max(names.count, 1))
        strings.reserveCapacity(strings.count * reservedRows / max(count, 1))
    }

    /// Starts a record: every column missing until set.
    public mutating func beginRecord() {
        values.append(contentsOf: repeatElement(.nan, count: names.count))
    }

    /// Adds a feature name while a record is being read (the column is missing in the records
    /// before); returns its column.
    public mutating func addColumn(named name: String) -> Int {
        let width = names.count
        names.append(name)
        if count == 0 {
            // Only the record being read has values: widening it is an append.
            values.append(.nan)
        } else {
            var widened: [Double] = []
            widened.reserveCapacity(max(reservedRows, count + 1) * (width + 1))
            for row in 0...count {
                widened += values[(row * width)..<((row + 1) * width)]
                widened.append(.nan)
            }
            values = widened
        }
        return width
    }

    /// Sets a number of the record being read.
    public mutating func set(_ number: Double, column: Int) {
        values[count * names.count + column] = number.isNaN ? .nan : number
    }

    /// Sets a string of the record being read.
    public mutating func set(_ text: String, column: Int) {
        strings.append(text)
        values[count * names.count + column] = Double(nan: Double.RawSignificand(strings.count), signaling: false)
    }

    /// Ends the record being read.
    public mutating func endRecord() {
        count += 1
    }

    /// The value of `column` in record `record`.
    func value(_ record: Int, column: Int) -> FeatureValue {
        let number = values[record * names.count + column]
        guard number.isNaN else { return .number(number) }
        return stringIndex(number).map { .string(strings[$0]) } ?? .missing
    }

    /// The value of feature `name` in record `record` (missing when no record gives it).
    public func value(_ name: String, in record: Int) -> FeatureValue {
        names.firstIndex(of: name).map { value(record, column: $0) } ?? .missing
    }

    /// Of `names`, those record `record` leaves missing (absent or null), in the given order.
    public func missing(_ names: [String], in record: Int) -> [String] {
        names.filter { value($0, in: record) == .missing }
    }

    /// Writes `column` of every record as 32-bit floats to `output[row * stride + offset]`:
    /// missing values as NaN, strings parsed as numbers.
    func writeFloats(column: Int, to output: UnsafeMutableBufferPointer<Float>, stride: Int, offset: Int) throws(ValueProblem) {
        let width = names.count
        try values.withUnsafeBufferPointer { (values) throws(ValueProblem) in
            var source = column
            var target = offset
            for _ in 0..<count {
                let number = values[source]
                if number.isNaN, let index = stringIndex(number) {
                    guard let parsed = Float(strings[index]) else { throw ValueProblem(reason: "a number is expected, got \"\(strings[index])\"") }
                    output[target] = parsed
                } else {
                    output[target] = Float(number)
                }
                source += width
                target += stride
            }
        }
    }

    private func stringIndex(_ number: Double) -> Int? {
        let payload = Int(number.significandBitPattern & ~(1 << (Double.significandBitCount - 1)))
        return payload == 0 ? nil : payload - 1
    }
}

/// Why a value does not fit its input (the feature is named by the caller).
struct ValueProblem: Error {
    let reason: String
}
