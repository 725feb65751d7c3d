/// One scored record, in the shape of the public API's `result`.
public struct Prediction: Sendable, Equatable {
    public enum Value: Sendable, Equatable {
        case label(String)
        case number(Double)
    }

    public let prediction: Value
    /// Class names and probabilities in the model's class order, for classifiers.
    public let classNames: [String]?
    public let probabilities: [Double]?
}

/// Reads a model's outputs into predictions: a classifier's label and probabilities, or a
/// regressor's value. Class names are the model's labels, or the endpoint's `classes` when the
/// model's labels are indices.
public struct PredictionReader: Sendable {
    /// The model's output names: the label first, then the probabilities if any.
    let outputNames: [String]
    /// The model's labels in score order, and the names shown for them.
    let modelLabels: [String]?
    let names: [String]?

    public init(model: CompiledModel, classes: [String]?) throws {
        guard !model.outputs.isEmpty else { throw ModelError.invalidModel("the model has no output") }
        outputNames = model.outputs.map(\.name)
        modelLabels = model.classLabels
        if let classes, let labels = model.classLabels, classes.count != labels.count {
            throw ModelError.mapping("classes lists \(classes.count) names, the model has \(labels.count) classes")
        }
        names = model.classLabels.map { classes ?? $0 }
    }

    /// Predictions for `rows` records, from the outputs by name.
    public func predictions(from outputs: [String: Tensor], rows: Int) throws -> [Prediction] {
        let scored = try read(try outputNames.map { name in
            guard let tensor = outputs[name] else { throw ModelError.missingInput(name) }
            return tensor
        }, rows: rows)
        return (0..<rows).map { row in
            Prediction(
                prediction: scored.prediction(row), classNames: scored.classNames,
                probabilities: scored.hasProbabilities ? (0..<scored.width).map { Double(scored.probability(row, class: $0)) } : nil)
        }
    }

    /// The scores of `rows` records from the outputs in the model's order, read record by
    /// record by the caller.
    public func read(_ outputs: [Tensor], rows: Int) throws -> ScoredRows {
        guard let labels = outputs.first else { throw ModelError.missingInput(outputNames[0]) }
        guard let modelLabels, let names else {
            let values = try labels.floats()
            return ScoredRows(count: rows, labels: .numbers(values, width: max(values.count / max(rows, 1), 1)), modelLabels: [], classNames: nil, scores: nil)
        }
        let chosen: ScoredRows.Labels = if case .string(let values) = labels.storage { .strings(values) } else { .int64s(try labels.int64s()) }
        let scores = try outputs.dropFirst().first.map { try $0.floats() }
        if let scores, scores.count < rows * modelLabels.count {
            throw ModelError.typeMismatch("the model gives \(scores.count / max(rows, 1)) probabilities per row for \(modelLabels.count) classes")
        }
        return ScoredRows(count: rows, labels: chosen, modelLabels: modelLabels, classNames: names, scores: scores)
    }
}

/// A batch's scores as the model gave them, read record by record without a value per record.
public struct ScoredRows: Sendable {
    enum Labels: Sendable {
        case strings([String])
        case int64s([Int64])
        /// A regressor's values, `width` per record (the first is the prediction).
        case numbers([Float], width: Int)
    }

    /// The number of records.
    public let count: Int
    let labels: Labels
    /// The model's labels in score order.
    let modelLabels: [String]
    /// The class names shown, in score order; nil for a regressor.
    public let classNames: [String]?
    /// The probabilities, `width` per record.
    let scores: [Float]?

    /// The number of classes.
    public var width: Int { modelLabels.count }
    /// Whether the model gives class probabilities.
    public var hasProbabilities: Bool { scores != nil && classNames != nil }

    /// Record `row`'s predicted label (shown by its class name) or value.
    public func prediction(_ row: Int) -> Prediction.Value {
        switch labels {
        case .numbers(let values, let width): return .number(Double(values[row * width]))
        case .strings(let values): return .label(shown(values[row]))
        case .int64s(let values): return .label(shown(String(values[row])))
        }
    }

    /// The position in `classNames` of record `row`'s predicted label, when it is one of them.
    public func predictedClass(_ row: Int) -> Int? {
        guard classNames != nil else { return nil }
        switch labels {
        case .numbers: return nil
        case .strings(let values): return modelLabels.firstIndex(of: values[row])
        case .int64s(let values): return modelLabels.firstIndex(of: String(values[row]))
        }
    }

    private func shown(_ label: String) -> String {
        guard let classNames, let index = modelLabels.firstIndex(of: label) else { return label }
        return classNames[index]
    }

    /// Record `row`'s probability of class `index`.
    public func probability(_ row: Int, class index: Int) -> Float { scores?[row * width + index] ?? .nan }

    /// Whether record `row` got a score: a NaN prediction or probability means it did not.
    public func isScored(_ row: Int) -> Bool {
        if case .numbers(let values, let width) = labels, values[row * width].isNaN { return false }
        guard hasProbabilities else { return true }
        return !(0..<width).contains { probability(row, class: $0).isNaN }
    }
}
