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
    let labelOutput: String
    let probabilityOutput: String?
    /// The model's labels in score order, and the names shown for them.
    let modelLabels: [String]?
    let names: [String]?

    public init(model: CompiledModel, classes: [String]?) throws {
        guard let first = model.outputs.first else { throw ModelError.invalidModel("the model has no output") }
        labelOutput = first.name
        probabilityOutput = model.outputs.count > 1 ? model.outputs[1].name : nil
        modelLabels = model.classLabels
        if let classes, let labels = model.classLabels, classes.count != labels.count {
            throw ModelError.mapping("classes lists \(classes.count) names, the model has \(labels.count) classes")
        }
        names = model.classLabels.map { classes ?? $0 }
    }

    /// Predictions for `rows` records.
    public func predictions(from outputs: [String: Tensor], rows: Int) throws -> [Prediction] {
        guard let labels = outputs[labelOutput] else { throw ModelError.missingInput(labelOutput) }
        guard let modelLabels, let names else {
            let values = try labels.floats()
            let width = max(values.count / max(rows, 1), 1)
            return (0..<rows).map { Prediction(prediction: .number(Double(values[$0 * width])), classNames: nil, probabilities: nil) }
        }
        let chosen: [String] = if case .string(let values) = labels.storage { values } else { try labels.int64s().map { String($0) } }
        let scores = try probabilityOutput.flatMap { outputs[$0] }.map { try $0.floats() }
        let width = modelLabels.count
        if let scores, scores.count < rows * width {
            throw ModelError.typeMismatch("the model gives \(scores.count / max(rows, 1)) probabilities per row for \(width) classes")
        }
        return (0..<rows).map { row in
            let display = modelLabels.firstIndex(of: chosen[row]).map { names[$0] } ?? chosen[row]
            let probabilities = scores.map { values in (0..<width).map { Double(values[row * width + $0]) } }
            return Prediction(prediction: .label(display), classNames: names, probabilities: probabilities)
        }
    }
}
