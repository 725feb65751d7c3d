import DeployerModel
import Foundation
import ModelRuntime

/// A `predict`, `predict-multi` or `predict-simple` query read in one pass: each record's
/// features go straight into `FeatureRecords` (no tree, no dictionary and no enum per value),
/// the other members stay JSON values, and the records' features are kept as the caller's
/// compact JSON for the query log, so they are never written out again.
struct PredictionRequest: Sendable {
    /// The body's members other than the records (`dispatch`, `context`, …).
    let members: [String: JSONValue]
    /// The records' features, for a native model.
    let records: FeatureRecords
    /// `features` (one object), or for predict-multi `[…]` of each item's, as compact JSON.
    let loggedFeatures: [UInt8]?
    /// Why the records cannot be scored by a native model, found while reading; reported only
    /// when one answers (a Python prediction class takes any JSON).
    let recordsProblem: QueryError?

    /// The records of a `predict-simple` query string: every value is text.
    init(simple query: [String: String]) {
        var records = FeatureRecords()
        records.beginRecord()
        for (name, value) in query { records.set(value, column: records.addColumn(named: name)) }
        records.endRecord()
        self.records = records
        members = [:]
        loggedFeatures = JSONValue.object(query.mapValues { .string($0) }).serialized(sortingKeys: false)
        recordsProblem = nil
    }

    /// Reads a `predict` (`multi: false`) or `predict-multi` body.
    init(body: [UInt8], multi: Bool) throws {
        var reader = Reader(parser: JSONParser(bytes: body), multi: multi)
        try reader.readBody()
        members = reader.members
        records = reader.records
        loggedFeatures = reader.loggedFeatures
        recordsProblem = reader.problem
    }

    /// The one-pass reader; record member names are matched against the previous record's names
    /// at the same position before any string is made.
    private struct Reader {
        var parser: JSONParser
        let multi: Bool
        var members: [String: JSONValue] = [:]
        var records = FeatureRecords()
        var loggedFeatures: [UInt8]?
        var problem: QueryError?
        /// Each column's name as first written in the body.
        var rawNames: [Range<Int>] = []
        /// The columns by name, once there are more than `scanLimit` (fewer are found by a scan
        /// of the names: no hashing and no table for the usual record).
        var columnOfName: [String: Int]?
        static let scanLimit = 16
        /// The previous record's columns in order (and a spare array for the next record's), and
        /// the last record that set each column.
        var previousOrder: [Int] = []
        var spareOrder: [Int] = []
        var lastRecordOfColumn: [Int] = []

        init(parser: JSONParser, multi: Bool) {
            self.parser = parser
            self.multi = multi
            rawNames.reserveCapacity(Self.scanLimit)
            lastRecordOfColumn.reserveCapacity(Self.scanLimit)
            records.reserveCapacity(columns: Self.scanLimit)
        }

        mutating func readBody() throws {
            guard parser.peek() == UInt8(ascii: "{") else {
                _ = try JSONValue.parse(parser.bytes)
                throw QueryError.badRequest("the body must be a JSON object")
            }
            let recordsName = multi ? "items" : "features"
            var sawRecords = false
            if try parser.open(UInt8(ascii: "{"), closing: UInt8(ascii: "}")) {
                repeat {
                    let name = try memberName()
                    if name == recordsName {
                        guard !sawRecords else { throw parser.fail("duplicate member \"\(name)\"") }
                        sawRecords = true
                        if multi {
                            try readItems()
                        } else {
                            var logged: [UInt8] = []
                            try readFeatures(ofItem: nil, logged: &logged)
                            loggedFeatures = logged
                        }
                    } else {
                        guard members.updateValue(try parser.parseValue(), forKey: name) == nil else { throw parser.fail("duplicate member \"\(name)\"") }
                    }
                } while try parser.nextMember(closing: UInt8(ascii: "}"))
            }
            try parser.finish()
            if !sawRecords {
                note(multi ? QueryError.badRequest("predict-multi needs a non-empty \"items\" array") : Self.notAnObject("features"))
            }
        }

        private mutating func memberName() throws -> String {
            try parser.string(raw: try parser.scanMemberName())
        }

        private mutating func note(_ problem: QueryError) {
            if self.problem == nil { self.problem = problem }
        }

        private static func notAnObject(_ path: String) -> QueryError {
            QueryError.badRequest("\"\(path)\" must be an object of feature values")
        }

        private mutating func readItems() throws {
            guard parser.peek() == UInt8(ascii: "[") else {
                _ = try parser.parseValue()
                return note(QueryError.badRequest("predict-multi needs a non-empty \"items\" array"))
            }
            var logged: [UInt8] = [UInt8(ascii: "[")]
            var index = 0
            if try parser.open(UInt8(ascii: "["), closing: UInt8(ascii: "]")) {
                repeat {
                    if index > 0 { logged.append(UInt8(ascii: ",")) }
                    let start = parser.index
                    try readItem(index, logged: &logged)
                    if index == 0 {
                        // Room for as many records as items like the first fit in the body.
                        records.reserveCapacity(records: parser.bytes.count / max(parser.index - start, 1))
                    }
                    index += 1
                } while try parser.nextMember(closing: UInt8(ascii: "]"))
            }
            logged.append(UInt8(ascii: "]"))
            loggedFeatures = logged
            if index == 0 { note(QueryError.badRequest("predict-multi needs a non-empty \"items\" array")) }
        }

        private mutating func readItem(_ index: Int, logged: inout [UInt8]) throws {
            var sawFeatures = false
            if parser.peek() == UInt8(ascii: "{") {
                var otherNames: [String] = []
                if try parser.open(UInt8(ascii: "{"), closing: UInt8(ascii: "}")) {
                    repeat {
                        let raw = try parser.scanMemberName()
                        // The usual spelling is matched as bytes, without making a string.
                        let name = parser.bytes[raw].elementsEqual(Self.featuresBytes) ? "features" : try parser.string(raw: raw)
                        guard name == "features" ? !sawFeatures : !otherNames.contains(name) else { throw parser.fail("duplicate member \"\(name)\"") }
                        if name == "features" {
                            sawFeatures = true
                            try readFeatures(ofItem: index, logged: &logged)
                        } else {
                            otherNames.append(name)
                            _ = try parser.parseValue()
                        }
                    } while try parser.nextMember(closing: UInt8(ascii: "}"))
                }
            } else {
                _ = try parser.parseValue()
            }
            if !sawFeatures {
                logged += [UInt8(ascii: "{"), UInt8(ascii: "}")]
                records.beginRecord()
                records.endRecord()
                note(Self.notAnObject(Self.featuresPath(ofItem: index)))
            }
        }

        private static let featuresBytes = Array("features".utf8)

        /// `features`, or `items[i].features` of predict-multi item `i` (for messages).
        private static func featuresPath(ofItem item: Int?) -> String {
            item.map { "items[\($0)].features" } ?? "features"
        }

        /// Reads one `features` value (of predict-multi item `item`) into a record (an empty one
        /// when it is not an object) and appends its compact JSON to `logged`.
        private mutating func readFeatures(ofItem item: Int?, logged: inout [UInt8]) throws {
            let start = parser.index
            let whitespace = parser.whitespaceSkipped
            records.beginRecord()
            if parser.peek() == UInt8(ascii: "{") {
                try readRecord()
            } else {
                _ = try parser.parseValue()
                note(Self.notAnObject(Self.featuresPath(ofItem: item)))
            }
            records.endRecord()
            // The member name's reading left the parser at the value.
            let text = parser.bytes[start..<parser.index]
            if parser.whitespaceSkipped == whitespace { logged += text } else { logged += JSONValue.compact(text) }
        }

        private mutating func readRecord() throws {
            let record = records.count
            var order = spareOrder
            spareOrder = []
            order.removeAll(keepingCapacity: true)
            order.reserveCapacity(max(previousOrder.count, Self.scanLimit))
            if try parser.open(UInt8(ascii: "{"), closing: UInt8(ascii: "}")) {
                repeat {
                    let column = try column(at: order.count)
                    guard lastRecordOfColumn[column] != record else { throw parser.fail("duplicate member \"\(records.names[column])\"") }
                    lastRecordOfColumn[column] = record
                    order.append(column)
                    switch try parser.parseValue() {
                    case .int(let number): records.set(Double(number), column: column)
                    case .double(let number): records.set(number, column: column)
                    case .string(let text): records.set(text, column: column)
                    case .bool(let flag): records.set(flag ? 1 : 0, column: column)
                    case .null: break
                    case .array, .object:
                        let name = records.names[column]
                        note(QueryError.badRequest("feature \"\(name)\": a number, a string or null is expected", details: ["feature": .string(name)]))
                    }
                } while try parser.nextMember(closing: UInt8(ascii: "}"))
            }
            spareOrder = previousOrder
            previousOrder = order
        }

        /// The column of the member name at the parser, the `position`-th of its record.
        private mutating func column(at position: Int) throws -> Int {
            if position < previousOrder.count {
                let expected = previousOrder[position]
                if try parser.skipMemberName(equalTo: rawNames[expected]) { return expected }
            }
            let raw = try parser.scanMemberName()
            let name = try parser.string(raw: raw)
            if let column = columnOfName.map({ $0[name] }) ?? records.names.firstIndex(of: name) { return column }
            let column = records.addColumn(named: name)
            rawNames.append(raw)
            lastRecordOfColumn.append(-1)
            if columnOfName != nil {
                columnOfName?[name] = column
            } else if records.names.count > Self.scanLimit {
                columnOfName = Dictionary(uniqueKeysWithValues: records.names.enumerated().map { ($1, $0) })
            }
            return column
        }
    }
}
