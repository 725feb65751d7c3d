import ModelRuntime
import Testing

/// Query records keep every value in its feature's column, whatever order and set of names each
/// record has.
@Suite struct FeatureRecordsTests {
    @Test func valuesStayInTheirColumnsWhenNamesAppearLate() {
        let rows: [[String: FeatureValue]] = [
            ["a": .number(1), "b": .string("x")],
            ["b": .number(2)],
            ["c": .string("late"), "a": .missing],
            ["c": .number(-0.5), "a": .number(.nan), "b": .string("")],
        ]
        let records = FeatureRecords(rows)
        #expect(records.count == 4 && Set(records.names) == ["a", "b", "c"])
        for (index, row) in rows.enumerated() {
            for name in ["a", "b", "c", "d"] {
                // A NaN number is a missing value, as is an absent one.
                var expected = row[name] ?? .missing
                if case .number(let number) = expected, number.isNaN { expected = .missing }
                #expect(records.value(name, in: index) == expected, "record \(index), feature \(name)")
            }
        }
        #expect(records.missing(["c", "a", "b"], in: 1) == ["c", "a"])
        #expect(records.missing(["a", "b", "c"], in: 3) == ["a"])
    }

    @Test func aRecordBuiltValueByValueMatchesItsDictionary() {
        var records = FeatureRecords()
        records.reserveCapacity(columns: 2)
        for row in 0..<300 {
            records.beginRecord()
            // Names in a different order per record; a new one every 100 records.
            let names = (0...(row / 100)).map { "f\($0)" }
            for name in row.isMultiple(of: 2) ? names : names.reversed() {
                let column = records.names.firstIndex(of: name) ?? records.addColumn(named: name)
                if name == "f1" { records.set("s\(row)", column: column) } else { records.set(Double(row), column: column) }
            }
            records.endRecord()
            if row == 0 { records.reserveCapacity(records: 300) }
        }
        for row in [0, 99, 100, 199, 200, 299] {
            #expect(records.value("f0", in: row) == .number(Double(row)))
            #expect(records.value("f1", in: row) == (row >= 100 ? .string("s\(row)") : .missing))
            #expect(records.value("f2", in: row) == (row >= 200 ? .number(Double(row)) : .missing))
        }
    }
}
