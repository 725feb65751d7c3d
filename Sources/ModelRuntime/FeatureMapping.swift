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
    /// record column goes straight into its place; a feature the model does not take is skipped.
    public func feeds(for records: FeatureRecords) throws -> [Tensor] {
        switch layout {
        case .perFeature(let inputs):
            return try tensors(for: records, inputs: inputs, plan: feeds)
        case .tensor(let input, let columns):
            var builder = ColumnBuilder(type: .float, rows: records.count, width: columns.count)
            for (column, name) in records.names.enumerated() {
                guard let position = positionOfFeature[name] else { continue }
                do {
                    try builder.fill(position, from: records, column: column)
                } catch {
                    throw FeatureError(feature: name, reason: error.reason)
                }
            }
            return [try builder.tensor(feature: input.name)]
        }
    }

    /// One tensor per group of the per-feature `inputs` (a group of several is float columns
    /// side by side).
    private func tensors(for records: FeatureRecords, inputs: [ValueInfo], plan: FeedPlan) throws -> [Tensor] {
        var builders = plan.groups.map { ColumnBuilder(type: inputs[$0[0]].elementType, rows: records.count, width: $0.count) }
        for (column, name) in records.names.enumerated() {
            guard let input = positionOfFeature[name] else { continue }
            let (group, place) = plan.place[input]
            do {
                try builders[group].fill(place, from: records, column: column)
            } catch {
                throw FeatureError(feature: name, reason: error.reason)
            }
        }
        return try zip(builders, plan.groups).map { try $0.tensor(feature: inputs[$1[0]].name) }
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

        /// Fills column `place` from `column` of the records; the caller names the feature of a
        /// problem.
        mutating func fill(_ place: Int, from records: FeatureRecords, column: Int) throws(ValueProblem) {
            switch type {
            case .string:
                for row in 0..<rows {
                    switch records.value(row, column: column) {
                    case .string(let text): strings[row] = text
                    case .number(let number): strings[row] = Int64(exactly: number).map { String($0) } ?? String(number)
                    case .missing: strings[row] = ""
                    }
                }
            case .int64:
                for row in 0..<rows {
                    let number: Double
                    switch records.value(row, column: column) {
                    case .number(let value): number = value
                    case .string(let text): number = Double(text) ?? .nan
                    case .missing: number = .nan
                    }
                    guard let integer = Int64(exactly: number) else { throw ValueProblem(reason: "an integer is expected") }
                    int64s[row] = integer
                    given[row] = true
                }
            default:
                try floats.withUnsafeMutableBufferPointer { (floats) throws(ValueProblem) in
                    try records.writeFloats(column: column, to: floats, stride: width, offset: place)
                }
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
}
