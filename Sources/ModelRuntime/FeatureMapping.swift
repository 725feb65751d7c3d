/// One feature value of a query.
public enum FeatureValue: Sendable, Equatable {
    case number(Double)
    case string(String)
    case missing
}

/// A query feature that does not fit the model, named for the caller's error message.
public struct FeatureError: Error, Sendable, Equatable, CustomStringConvertible {
    public let feature: String
    public let reason: String
    public var description: String { "feature \"\(feature)\": \(reason)" }

    public init(feature: String, reason: String) {
        self.feature = feature
        self.reason = reason
    }
}

/// Maps named query features onto a model's inputs, once per model: either one input per
/// feature (inputs named like the features, as converted pipelines have), or one 2-D tensor
/// whose columns follow a declared feature order. Missing numeric features become NaN (for
/// the model's imputers); missing strings become "" (an unknown category).
public struct FeatureMapping: Sendable {
    enum Layout: Sendable {
        /// One `[rows, 1]` input per feature.
        case perFeature([ValueInfo])
        /// One `[rows, columns]` input; the columns are these features.
        case tensor(ValueInfo, columns: [String])
    }

    let layout: Layout
    /// The position of each feature the model takes, by name.
    private let positionOfFeature: [String: Int]

    /// The feature names the model takes, in column order.
    public var featureNames: [String] { Self.names(in: layout) }

    private static func names(in layout: Layout) -> [String] {
        switch layout {
        case .perFeature(let inputs): inputs.map(\.name)
        case .tensor(_, let columns): columns
        }
    }

    /// - Parameter featureOrder: column names for a model with one tensor input (from the
    ///   package manifest); ignored when the model has one input per feature.
    public init(model: CompiledModel, featureOrder: [String]?) throws {
        if model.inputs.count == 1, let input = model.inputs.first, let width = input.shape.last ?? nil, width > 1 || featureOrder != nil {
            guard let columns = featureOrder else {
                throw ModelError.mapping("input \"\(input.name)\" holds \(width) features: the endpoint must list their names (features)")
            }
            guard columns.count == width else {
                throw ModelError.mapping("input \"\(input.name)\" has \(width) columns but \(columns.count) feature names are listed")
            }
            layout = .tensor(input, columns: columns)
        } else {
            for input in model.inputs {
                guard input.shape.count <= 2, (input.shape.last ?? 1) ?? 1 == 1 else {
                    throw ModelError.invalidModel("input \"\(input.name)\" has shape \(input.shape); one column per input is expected")
                }
                if case .other(let code) = input.elementType {
                    throw ModelError.invalidModel("input \"\(input.name)\" has unsupported element type \(code)")
                }
            }
            layout = .perFeature(model.inputs)
        }
        positionOfFeature = Dictionary(Self.names(in: layout).enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The model inputs for a batch of queries, by input name.
    public func inputs(for rows: [[String: FeatureValue]]) throws -> [String: Tensor] {
        let names: [String] = switch layout {
        case .perFeature(let inputs): inputs.map(\.name)
        case .tensor(let input, _): [input.name]
        }
        return Dictionary(uniqueKeysWithValues: zip(names, try inputs(for: FeatureRecords(rows))))
    }

    /// The model inputs for a batch of records, in the model's input order: each value goes
    /// straight into its column; a feature the model does not take is skipped.
    public func inputs(for records: FeatureRecords) throws -> [Tensor] {
        let positions = records.names.map { positionOfFeature[$0] ?? -1 }
        let rows = records.count
        switch layout {
        case .perFeature(let inputs):
            var columns = inputs.map { ColumnBuilder(feature: $0.name, type: $0.elementType, rows: rows) }
            for row in 0..<rows {
                for cell in records.cells(of: row) {
                    let position = positions[cell.column]
                    if position >= 0 { try columns[position].set(cell.value, row: row) }
                }
            }
            return try columns.map { try $0.tensor() }
        case .tensor(let input, let columns):
            var values = [Float](repeating: .nan, count: rows * columns.count)
            for row in 0..<rows {
                for cell in records.cells(of: row) {
                    let position = positions[cell.column]
                    if position >= 0 { values[row * columns.count + position] = try Self.number(cell.value, feature: columns[position]) }
                }
            }
            return [Tensor(.float(values), shape: [rows, columns.count])]
        }
    }

    /// One per-feature input being filled: absent values stay missing (NaN, or "" for strings).
    /// Only the array of the input's type is used.
    private struct ColumnBuilder {
        let feature: String
        let type: ElementType
        let rows: Int
        var floats: [Float] = []
        var strings: [String] = []
        var int64s: [Int64] = []
        /// Which records gave an integer input (it has no missing value).
        var given: [Bool] = []

        init(feature: String, type: ElementType, rows: Int) {
            self.feature = feature
            self.type = type
            self.rows = rows
            switch type {
            case .string: strings = Array(repeating: "", count: rows)
            case .int64:
                int64s = Array(repeating: 0, count: rows)
                given = Array(repeating: false, count: rows)
            default: floats = Array(repeating: .nan, count: rows)
            }
        }

        mutating func set(_ value: FeatureValue, row: Int) throws {
            switch type {
            case .string:
                switch value {
                case .string(let text): strings[row] = text
                case .number(let number): strings[row] = number.rounded() == number ? String(Int64(number)) : String(number)
                case .missing: strings[row] = ""
                }
            case .int64:
                let number = try FeatureMapping.number(value, feature: feature)
                guard number.isFinite, number.rounded() == number else {
                    throw FeatureError(feature: feature, reason: "an integer is expected")
                }
                int64s[row] = Int64(number)
                given[row] = true
            default:
                floats[row] = try FeatureMapping.number(value, feature: feature)
            }
        }

        /// The column; every record must give an integer input.
        func tensor() throws -> Tensor {
            switch type {
            case .string: return Tensor(.string(strings), shape: [rows, 1])
            case .int64:
                guard given.allSatisfy({ $0 }) else { throw FeatureError(feature: feature, reason: "an integer is expected") }
                return Tensor(.int64(int64s), shape: [rows, 1])
            default: return Tensor(.float(floats), shape: [rows, 1])
            }
        }
    }

    private static func number(_ value: FeatureValue, feature: String) throws -> Float {
        switch value {
        case .number(let number): return Float(number)
        case .missing: return .nan
        case .string(let text):
            guard let number = Float(text) else { throw FeatureError(feature: feature, reason: "a number is expected, got \"\(text)\"") }
            return number
        }
    }
}
