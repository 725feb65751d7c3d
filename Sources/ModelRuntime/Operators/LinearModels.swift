/// Scores `X · coefficientsᵀ + intercepts` for every row, in float32 like onnxruntime.
private func linearScores(_ x: [Float], rows: Int, features: Int, coefficients: [Float], intercepts: [Float], targets: Int) -> [Float] {
    var scores = [Float](repeating: 0, count: rows * targets)
    for row in 0..<rows {
        let base = row * features
        for target in 0..<targets {
            var sum: Float = 0
            let weights = target * features
            for feature in 0..<features { sum += x[base + feature] * coefficients[weights + feature] }
            scores[row * targets + target] = sum + (intercepts.isEmpty ? 0 : intercepts[target])
        }
    }
    return scores
}

/// `LinearRegressor`.
struct LinearRegressorKernel: Kernel {
    let input: Int
    let output: Int
    let coefficients: [Float]
    let intercepts: [Float]
    let targets: Int
    let transform: PostTransform

    init(context: NodeContext) throws {
        input = try context.requireInput(0)
        output = context.outputSlots[0]
        coefficients = try context.floats("coefficients")
        intercepts = try context.floats("intercepts", default: [])
        targets = Int(try context.int("targets", default: 1))
        transform = try PostTransform(context: context)
    }

    func run(_ slots: inout [Tensor?]) throws {
        let tensor = try slots.value(input)
        let x = try tensor.floats()
        let rows = tensor.rows
        let features = tensor.columns
        guard coefficients.count == features * targets else {
            throw ModelError.typeMismatch("LinearRegressor expects \(coefficients.count / max(targets, 1)) features, got \(features)")
        }
        let scores = linearScores(x, rows: rows, features: features, coefficients: coefficients, intercepts: intercepts, targets: targets)
        slots[output] = Tensor(.float(transform.apply(scores, rows: rows, width: targets, secondClass: nil)), shape: [rows, targets])
    }
}

/// `LinearClassifier`: labels by the largest score (or the sign of a single binary score), and
/// scores after the post-transform, as onnxruntime computes them.
struct LinearClassifierKernel: Kernel {
    let input: Int
    let labelOutput: Int
    let scoreOutput: Int?
    let coefficients: [Float]
    let intercepts: [Float]
    let labels: ClassLabels
    let transform: PostTransform

    init(context: NodeContext) throws {
        input = try context.requireInput(0)
        labelOutput = context.outputSlots[0]
        scoreOutput = context.outputSlots.count > 1 ? context.outputSlots[1] : nil
        coefficients = try context.floats("coefficients")
        intercepts = try context.floats("intercepts", default: [])
        labels = try ClassLabels(context: context)
        transform = try PostTransform(context: context)
        if intercepts.isEmpty { throw context.fail("needs intercepts (one per class score)") }
    }

    func run(_ slots: inout [Tensor?]) throws {
        let tensor = try slots.value(input)
        let x = try tensor.floats()
        let rows = tensor.rows
        let features = tensor.columns
        let targets = intercepts.count
        guard coefficients.count == features * targets else {
            throw ModelError.typeMismatch("LinearClassifier expects \(coefficients.count / targets) features, got \(features)")
        }
        let scores = linearScores(x, rows: rows, features: features, coefficients: coefficients, intercepts: intercepts, targets: targets)
        var chosen = [Int](repeating: 0, count: rows)
        for row in 0..<rows {
            if targets == 1 {
                chosen[row] = scores[row] > 0 ? 1 : 0
            } else {
                var best = 0
                for target in 1..<targets where scores[row * targets + target] > scores[row * targets + best] { best = target }
                chosen[row] = best
            }
        }
        slots[labelOutput] = labels.tensor(for: chosen)
        guard let scoreOutput else { return }
        let addsSecondClass = targets == 1 && labels.count == 2
        let transformed = transform.apply(scores, rows: rows, width: targets, secondClass: addsSecondClass ? .complement : nil)
        slots[scoreOutput] = Tensor(.float(transformed), shape: [rows, addsSecondClass ? 2 : targets])
    }
}

/// Class labels of a classifier: `classlabels_ints` or `classlabels_strings`.
struct ClassLabels: Sendable {
    let ints: [Int64]
    let strings: [String]

    init(context: NodeContext) throws {
        ints = try context.ints("classlabels_ints", default: try context.ints("classlabels_int64s", default: []))
        strings = try context.strings("classlabels_strings", default: [])
        if ints.isEmpty, strings.isEmpty { throw context.fail("needs class labels") }
    }

    var count: Int { strings.isEmpty ? ints.count : strings.count }

    /// Labels for chosen class positions; a binary model without two labels uses 0 and 1.
    func tensor(for positions: [Int]) -> Tensor {
        if !strings.isEmpty {
            return Tensor(.string(positions.map { strings.indices.contains($0) ? strings[$0] : String($0) }), shape: [positions.count])
        }
        return Tensor(.int64(positions.map { ints.indices.contains($0) ? ints[$0] : Int64($0) }), shape: [positions.count])
    }
}
