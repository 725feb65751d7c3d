import Foundation

/// The `post_transform` of linear and tree models, computed in 32-bit floats exactly as
/// onnxruntime does (its logistic, softmax, softmax-zero and probit formulas), so that scores
/// agree to float precision.
enum PostTransform: String, Sendable {
    case none = "NONE"
    case softmax = "SOFTMAX"
    case logistic = "LOGISTIC"
    case softmaxZero = "SOFTMAX_ZERO"
    case probit = "PROBIT"

    init(context: NodeContext) throws {
        let text = try context.string("post_transform", default: "NONE")
        guard let value = PostTransform(rawValue: text) else {
            throw ModelError.invalidAttribute(node: context.node.name, attribute: "post_transform", reason: "has unknown value \(text)")
        }
        self = value
    }

    static func logistic(_ value: Float) -> Float {
        let v = 1 / (1 + exp(-abs(value)))
        return value < 0 ? 1 - v : v
    }

    static func probit(_ value: Float) -> Float {
        Float(2).squareRoot() * inverseErf(2 * value - 1)
    }

    /// onnxruntime's approximation of the inverse error function.
    static func inverseErf(_ input: Float) -> Float {
        let sign: Float = input < 0 ? -1 : 1
        let x = (1 - input) * (1 + input)
        let logarithm = log(x)
        let v = 2 / (Float(3.14159) * 0.147) + 0.5 * logarithm
        let v2 = 1 / Float(0.147) * logarithm
        let v3 = -v + (v * v - v2).squareRoot()
        return sign * v3.squareRoot()
    }

    static func softmax<Values: MutableCollection<Float>>(_ values: inout Values) {
        let maximum = values.max() ?? 0
        var sum: Float = 0
        for index in values.indices {
            values[index] = exp(values[index] - maximum)
            sum += values[index]
        }
        for index in values.indices { values[index] /= sum }
    }

    static func softmaxZero<Values: MutableCollection<Float>>(_ values: inout Values) {
        let maximum = values.max() ?? 0
        let scale = exp(-maximum)
        var sum: Float = 0
        for index in values.indices {
            if values[index] > 0.0000001 || values[index] < -0.0000001 {
                values[index] = exp(values[index] - maximum)
                sum += values[index]
            } else {
                values[index] *= scale
            }
        }
        for index in values.indices { values[index] /= sum }
    }

    /// Applies the transform to `rows` batches of `width` scores. With one score per row and a
    /// second-class mode, each score becomes two columns (onnxruntime's `add_second_class`).
    func apply(_ scores: [Float], rows: Int, width: Int, secondClass: SecondClass?) -> [Float] {
        var scores = scores
        var output: [Float] = []
        output.reserveCapacity(rows * max(width, 2))
        scores.withUnsafeMutableBufferPointer { scores in
            for row in 0..<rows {
                let range = (row * width)..<((row + 1) * width)
                appendRow(UnsafeMutableBufferPointer(rebasing: scores[range]), secondClass: secondClass, to: &output)
            }
        }
        return output
    }

    /// Appends one row's scores after the transform (which may rewrite `scores` in place) to
    /// `output`: several scores are transformed together; a single score only by PROBIT, or
    /// becomes two class scores with a second-class mode.
    func appendRow(_ scores: UnsafeMutableBufferPointer<Float>, secondClass: SecondClass?, to output: inout [Float]) {
        if scores.count > 1 {
            var scores = scores
            switch self {
            case .probit: for index in scores.indices { scores[index] = Self.probit(scores[index]) }
            case .logistic: for index in scores.indices { scores[index] = Self.logistic(scores[index]) }
            case .softmax: Self.softmax(&scores)
            case .softmaxZero: Self.softmaxZero(&scores)
            case .none: break
            }
            output.append(contentsOf: scores)
            return
        }
        guard let score = scores.first else { return }
        if self == .probit { return output.append(Self.probit(score)) }
        let pair: (Float, Float)
        switch secondClass {
        case nil: return output.append(score)
        case .complement?: pair = (1 - score, score)
        case .negation? where self == .logistic: pair = (Self.logistic(-score), Self.logistic(score))
        case .negation?: pair = (-score, score)
        }
        output.append(pair.0)
        output.append(pair.1)
    }

    /// How a single binary score becomes two class scores.
    enum SecondClass: Sendable {
        /// `[1 - s, s]` (positive weights: a probability).
        case complement
        /// `[-s, s]`, or logistic of both with LOGISTIC (mixed-sign weights: a margin).
        case negation
    }
}
