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
    /// The model's feeds (`CompiledModel.feeds`) as groups of inputs, for `.perFeature`.
    private let feeds: FeedPlan

    /// The feature names the model takes, in column order.
    public let featureNames: [String]

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
        feeds = FeedPlan(groups: model.feeds.map(\.inputs), inputs: model.inputs.count)
        featureNames = Self.names(in: layout)
        positionOfFeature = Dictionary(featureNames.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The model inputs for a batch of queries, one tensor per input, by input name (for
    /// `CompiledModel.evaluate(_:)`).
    public func inputs(for rows: [[String: FeatureValue]]) throws -> [String: Tensor] {
        switch layout {
        case .perFeature(let inputs):
            let tensors = try tensors(for: FeatureRecords(rows), inputs: inputs, plan: FeedPlan(groups: inputs.indices.map { [$0] }, inputs: inputs.count))
            return Dictionary(uniqueKeysWithValues: zip(inputs.map(\.name), tensors))
        case .tensor(let input, _):
            return [input.name: try feeds(for: FeatureRecords(rows))[0]]
        }
    }

    /// The model's feeds for a batch of records, in the order of `CompiledModel.feeds`: each
    /// value goes straight into its column; a feature the model does not take is skipped.
    public func feeds(for records: FeatureRecords) throws -> [Tensor] {
        switch layout {
        case .perFeature(let inputs):
            return try tensors(for: records, inputs: inputs, plan: feeds)
        case .tensor(_, let columns):
            let positions = records.names.map { positionOfFeature[$0] ?? -1 }
            let rows = records.count
            var values = [Float](repeating: .nan, count: rows * columns.count)
            for row in 0..<rows {
                for cell in records.cells(of: row) {
                    let position = positions[cell.column]
                    guard position >= 0 else { continue }
                    do {
                        values[row * columns.count + position] = try Self.number(cell.value)
                    } catch {
                        throw FeatureError(feature: columns[position], reason: error.reason)
                    }
                }
            }
            return [Tensor(.float(values), shape: [rows, columns.count])]
        }
    }

    /// One tensor per group of the per-feature `inputs` (a group of several is float columns
    /// side by side).
    private func tensors(for records: FeatureRecords, inputs: [ValueInfo], plan: FeedPlan) throws -> [Tensor] {
        let rows = records.count
        let (groups, place) = (plan.groups, plan.place)
        let cellPlaces = records.names.map { name in positionOfFeature[name].map { (place[$0], $0) } }
        var builders = groups.map { ColumnBuilder(type: inputs[$0[0]].elementType, rows: rows, width: $0.count) }
        for row in 0..<rows {
            for cell in records.cells(of: row) {
                guard let ((group, column), input) = cellPlaces[cell.column] else { continue }
                do {
                    try builders[group].set(cell.value, row: row, column: column)
                } catch {
                    throw FeatureError(feature: inputs[input].name, reason: error.reason)
                }
            }
        }
        return try zip(builders, groups).map { try $0.tensor(feature: inputs[$1[0]].name) }
    }

    /// Groups of per-feature inputs, each filled as one tensor, and where each input goes.
    private struct FeedPlan {
        let groups: [[Int]]
        /// Each input's group and column in it.
        let place: [(group: Int, column: Int)]

        init(groups: [[Int]], inputs: Int) {
            self.groups = groups
            var place = [(group: Int, column: Int)](repeating: (-1, 0), count: inputs)
            for (group, members) in groups.enumerated() {
                for (column, input) in members.enumerated() { place[input] = (group, column) }
            }
            self.place = place
        }
    }

    /// The columns of one feed being filled: absent values stay missing (NaN, or "" for
    /// strings). Only the array of the feed's type is used; only float feeds have several columns.
    private struct ColumnBuilder {
        let type: ElementType
        let rows: Int
        let width: Int
        var floats: [Float] = []
        var strings: [String] = []
        var int64s: [Int64] = []
        /// Which records gave an integer input (it has no missing value).
        var given: [Bool] = []

        init(type: ElementType, rows: Int, width: Int) {
            self.type = type
            self.rows = rows
            self.width = width
            switch type {
            case .string: strings = Array(repeating: "", count: rows)
            case .int64:
                int64s = Array(repeating: 0, count: rows)
                given = Array(repeating: false, count: rows)
            default: floats = Array(repeating: .nan, count: rows * width)
            }
        }

        /// Sets one value; the caller names the feature of a problem.
        mutating func set(_ value: FeatureValue, row: Int, column: Int) throws(ValueProblem) {
            switch type {
            case .string:
                switch value {
                case .string(let text): strings[row] = text
                case .number(let number): strings[row] = number.rounded() == number ? String(Int64(number)) : String(number)
                case .missing: strings[row] = ""
                }
            case .int64:
                let number = try FeatureMapping.number(value)
                guard number.isFinite, number.rounded() == number else { throw ValueProblem(reason: "an integer is expected") }
                int64s[row] = Int64(number)
                given[row] = true
            default:
                floats[row * width + column] = try FeatureMapping.number(value)
            }
        }

        /// The feed's tensor; every record must give an integer input (`feature`).
        func tensor(feature: String) throws -> Tensor {
            switch type {
            case .string: return Tensor(.string(strings), shape: [rows, 1])
            case .int64:
                guard given.allSatisfy({ $0 }) else { throw FeatureError(feature: feature, reason: "an integer is expected") }
                return Tensor(.int64(int64s), shape: [rows, 1])
            default: return Tensor(.float(floats), shape: [rows, width])
            }
        }
    }

    /// Why a value does not fit its input (the feature is named by the caller).
    struct ValueProblem: Error {
        let reason: String
    }

    private static func number(_ value: FeatureValue) throws(ValueProblem) -> Float {
        switch value {
        case .number(let number): return Float(number)
        case .missing: return .nan
        case .string(let text):
            guard let number = Float(text) else { throw ValueProblem(reason: "a number is expected, got \"\(text)\"") }
            return number
        }
    }
}
