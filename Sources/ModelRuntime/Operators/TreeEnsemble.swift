/// Reads the 2-D float input of a tree model and checks its width.
private func treeInput(_ tensor: Tensor, trees: CompiledTrees) throws -> (values: [Float], rows: Int, columns: Int) {
    let values = try tensor.floats()
    guard tensor.columns > trees.maxFeature else {
        throw ModelError.typeMismatch("the tree model reads feature \(trees.maxFeature), but the input has \(tensor.columns) columns")
    }
    return (values, tensor.rows, tensor.columns)
}

/// `TreeEnsembleRegressor` (SUM and AVERAGE aggregation, base values, post-transform).
struct TreeEnsembleRegressorKernel: Kernel {
    let input: Int
    let output: Int
    let trees: CompiledTrees
    let targets: Int
    let baseValues: [Float]
    let average: Bool
    let transform: PostTransform

    init(context: NodeContext) throws {
        input = try context.requireInput(0)
        output = context.outputSlots[0]
        targets = Int(try context.int("n_targets", default: 1))
        guard targets >= 1 else { throw context.fail("n_targets must be at least 1") }
        trees = try CompiledTrees(context: context, votePrefix: "target", targets: targets)
        baseValues = try context.floats("base_values", default: [])
        let aggregate = try context.string("aggregate_function", default: "SUM")
        guard aggregate == "SUM" || aggregate == "AVERAGE" else {
            throw ModelError.unsupportedOperator(domain: "ai.onnx.ml", opType: "TreeEnsembleRegressor(aggregate_function=\(aggregate))", node: context.node.name)
        }
        average = aggregate == "AVERAGE"
        transform = try PostTransform(context: context)
    }

    func run(_ slots: inout [Tensor?]) throws {
        let (x, rows, columns) = try treeInput(try slots.value(input), trees: trees)
        var (result, _) = trees.sums(x, rows: rows, columns: columns, targets: targets)
        let treeCount = Float(trees.roots.count)
        for row in 0..<rows {
            for target in 0..<targets {
                var score = result[row * targets + target]
                if average { score /= treeCount }
                if baseValues.count == targets { score += baseValues[target] } else if baseValues.count == 1 { score += baseValues[0] }
                result[row * targets + target] = score
            }
        }
        slots[output] = Tensor(.float(transform.apply(result, rows: rows, width: targets, secondClass: nil)), shape: [rows, targets])
    }
}

/// `TreeEnsembleClassifier`, following onnxruntime's rules for base values, the binary case
/// (one voted class), the label choice and the synthesized second class score.
struct TreeEnsembleClassifierKernel: Kernel {
    let input: Int
    let labelOutput: Int
    let scoreOutput: Int?
    let trees: CompiledTrees
    let labels: ClassLabels
    let baseValues: [Float]
    let transform: PostTransform
    let binaryCase: Bool
    let weightsArePositive: Bool

    init(context: NodeContext) throws {
        input = try context.requireInput(0)
        labelOutput = context.outputSlots[0]
        scoreOutput = context.outputSlots.count > 1 ? context.outputSlots[1] : nil
        labels = try ClassLabels(context: context)
        trees = try CompiledTrees(context: context, votePrefix: "class", targets: labels.count)
        baseValues = try context.floats("base_values", default: [])
        transform = try PostTransform(context: context)
        guard labels.count >= 2 else { throw context.fail("needs at least two class labels") }
        binaryCase = labels.count == 2 && Set(trees.votes.map(\.target)).count == 1
        weightsArePositive = trees.votes.allSatisfy { $0.weight >= 0 }
    }

    func run(_ slots: inout [Tensor?]) throws {
        let (x, rows, columns) = try treeInput(try slots.value(input), trees: trees)
        let classes = labels.count
        var (scores, voted) = trees.sums(x, rows: rows, columns: columns, targets: classes)
        var chosen = [Int](repeating: 0, count: rows)
        var output: [Float] = []
        output.reserveCapacity(rows * classes)
        scores.withUnsafeMutableBufferPointer { scores in
            voted.withUnsafeMutableBufferPointer { voted in
                for row in 0..<rows {
                    let range = (row * classes)..<((row + 1) * classes)
                    let rowScores = UnsafeMutableBufferPointer(rebasing: scores[range])
                    let rowVoted = UnsafeMutableBufferPointer(rebasing: voted[range])
                    chosen[row] = classes > 2 ? multiclass(rowScores, rowVoted, into: &output) : binary(rowScores, rowVoted, into: &output)
                }
            }
        }
        slots[labelOutput] = labels.tensor(for: chosen)
        if let scoreOutput { slots[scoreOutput] = Tensor(.float(output), shape: [rows, output.count / max(rows, 1)]) }
    }

    /// One row of a model with more than two classes: base values added, the best voted class
    /// chosen, the scores transformed into `output`.
    private func multiclass(_ scores: UnsafeMutableBufferPointer<Float>, _ voted: UnsafeMutableBufferPointer<Bool>, into output: inout [Float]) -> Int {
        for index in 0..<min(baseValues.count, scores.count) {
            scores[index] = voted[index] ? scores[index] + baseValues[index] : baseValues[index]
            voted[index] = true
        }
        var best = -1
        for index in scores.indices where voted[index] && (best == -1 || scores[index] > scores[best]) { best = index }
        transform.appendRow(scores, secondClass: nil, to: &output)
        return max(best, 0)
    }

    /// One row of a two-class model, following onnxruntime's binary rules.
    private func binary(_ scores: UnsafeMutableBufferPointer<Float>, _ voted: UnsafeMutableBufferPointer<Bool>, into output: inout [Float]) -> Int {
        var secondClass: PostTransform.SecondClass?
        var singleScore = false
        if baseValues.count == 2 {
            if voted[1] {
                scores[1] = baseValues[1] + scores[0]
                scores[0] = -scores[1]
            } else {
                scores[1] += baseValues[1]
                scores[0] += baseValues[0]
            }
        } else if baseValues.count == 1 {
            scores[0] += baseValues[0]
            singleScore = !voted[1]
        } else {
            secondClass = .negation
            singleScore = !voted[1]
        }
        let positive = voted[1] && !singleScore ? scores[1] : (voted[0] ? scores[0] : 0)
        let label: Int
        if binaryCase {
            if weightsArePositive {
                label = positive > 0.5 ? 1 : 0
                secondClass = .complement
            } else {
                label = positive > 0 ? 1 : 0
                secondClass = .negation
            }
        } else {
            label = positive > 0 ? 1 : 0
        }
        transform.appendRow(singleScore ? UnsafeMutableBufferPointer(rebasing: scores[0..<1]) : scores, secondClass: secondClass, to: &output)
        return label
    }
}
