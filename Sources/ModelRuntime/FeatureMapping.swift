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

    /// The feature names the model takes, in column order.
    public var featureNames: [String] {
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
    }

    /// The model inputs for a batch of queries.
    public func inputs(for rows: [[String: FeatureValue]]) throws -> [String: Tensor] {
        switch layout {
        case .perFeature(let inputs):
            var feeds: [String: Tensor] = [:]
            for input in inputs {
                feeds[input.name] = try column(input.name, type: input.elementType, rows: rows)
            }
            return feeds
        case .tensor(let input, let columns):
            var values = [Float](repeating: 0, count: rows.count * columns.count)
            for (row, features) in rows.enumerated() {
                for (position, name) in columns.enumerated() {
                    values[row * columns.count + position] = try Self.number(features[name] ?? .missing, feature: name)
                }
            }
            return [input.name: Tensor(.float(values), shape: [rows.count, columns.count])]
        }
    }

    private func column(_ name: String, type: ElementType, rows: [[String: FeatureValue]]) throws -> Tensor {
        switch type {
        case .string:
            let values = rows.map { features -> String in
                switch features[name] ?? .missing {
                case .string(let text): return text
                case .number(let number): return number.rounded() == number ? String(Int64(number)) : String(number)
                case .missing: return ""
                }
            }
            return Tensor(.string(values), shape: [rows.count, 1])
        case .int64:
            let values = try rows.map { features -> Int64 in
                let number = try Self.number(features[name] ?? .missing, feature: name)
                guard number.isFinite, number.rounded() == number else {
                    throw FeatureError(feature: name, reason: "an integer is expected")
                }
                return Int64(number)
            }
            return Tensor(.int64(values), shape: [rows.count, 1])
        default:
            return Tensor(.float(try rows.map { try Self.number($0[name] ?? .missing, feature: name) }), shape: [rows.count, 1])
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
