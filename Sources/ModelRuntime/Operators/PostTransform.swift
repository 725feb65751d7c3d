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

    static func softmax(_ values: inout ArraySlice<Float>) {
        let maximum = values.max() ?? 0
        var sum: Float = 0
        for index in values.indices {
            values[index] = exp(values[index] - maximum)
            sum += values[index]
        }
        for index in values.indices { values[index] /= sum }
    }

    static func softmaxZero(_ values: inout ArraySlice<Float>) {
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
        if width > 1 {
            for row in 0..<rows {
                var slice = scores[(row * width)..<((row + 1) * width)]
                switch self {
                case .probit: for index in slice.indices { slice[index] = Self.probit(slice[index]) }
                case .logistic: for index in slice.indices { slice[index] = Self.logistic(slice[index]) }
                case .softmax: Self.softmax(&slice)
                case .softmaxZero: Self.softmaxZero(&slice)
                case .none: break
                }
                scores.replaceSubrange((row * width)..<((row + 1) * width), with: slice)
            }
            return scores
        }
        if self == .probit { return scores.map(Self.probit) }
        guard let secondClass else { return scores }
        var doubled: [Float] = []
        doubled.reserveCapacity(scores.count * 2)
        for score in scores {
            switch secondClass {
            case .complement: doubled += [1 - score, score]
            case .negation where self == .logistic: doubled += [Self.logistic(-score), Self.logistic(score)]
            case .negation: doubled += [-score, score]
            }
        }
        return doubled
    }

    /// How a single binary score becomes two class scores.
    enum SecondClass: Sendable {
        /// `[1 - s, s]` (positive weights: a probability).
        case complement
        /// `[-s, s]`, or logistic of both with LOGISTIC (mixed-sign weights: a margin).
        case negation
    }
}
