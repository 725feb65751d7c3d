/// Trees compiled into flat arrays: for node `n`, `feature[n]`, `threshold[n]`, `mode[n]`,
/// `trueChild[n]`/`falseChild[n]` (indices into the same arrays), and for leaves the range of
/// `(target, weight)` pairs they contribute. Comparisons are in 32-bit floats, as onnxruntime
/// does for float models.
struct CompiledTrees: Sendable {
    enum Mode: UInt8, Sendable {
        case lessOrEqual, less, greaterOrEqual, greater, equal, notEqual, leaf

        init?(_ text: String) {
            switch text {
            case "BRANCH_LEQ": self = .lessOrEqual
            case "BRANCH_LT": self = .less
            case "BRANCH_GTE": self = .greaterOrEqual
            case "BRANCH_GT": self = .greater
            case "BRANCH_EQ": self = .equal
            case "BRANCH_NEQ": self = .notEqual
            case "LEAF": self = .leaf
            default: return nil
            }
        }
    }

    /// One node, packed so that a step down a tree reads one place in memory.
    struct Node: Sendable {
        var feature: Int32
        var threshold: Float
        var trueChild: Int32
        var falseChild: Int32
        var mode: Mode
        var missingGoesTrue: Bool
    }

    var roots: [Int32] = []
    var nodes: [Node] = []
    var leafStart: [Int32] = []
    var leafCount: [Int32] = []
    var leafTarget: [Int32] = []
    var leafWeight: [Float] = []
    var maxFeature = -1

    /// Builds from the `nodes_*` attributes and the leaf votes (`class_*` or `target_*`).
    init(context: NodeContext, votePrefix: String) throws {
        let treeIDs = try context.ints("nodes_treeids")
        let nodeIDs = try context.ints("nodes_nodeids")
        let featureIDs = try context.ints("nodes_featureids")
        let values = try context.floats("nodes_values")
        let modes = try context.strings("nodes_modes")
        let trueIDs = try context.ints("nodes_truenodeids")
        let falseIDs = try context.ints("nodes_falsenodeids")
        let missing = try context.ints("nodes_missing_value_tracks_true", default: [])
        let count = treeIDs.count
        guard [nodeIDs.count, featureIDs.count, values.count, modes.count, trueIDs.count, falseIDs.count].allSatisfy({ $0 == count })
        else { throw context.fail("nodes_* attributes have different lengths") }
        var position: [TreeNodeKey: Int] = [:]
        for index in 0..<count { position[TreeNodeKey(tree: treeIDs[index], node: nodeIDs[index])] = index }
        for index in 0..<count {
            guard let parsed = Mode(modes[index]) else { throw context.fail("unknown node mode \(modes[index])") }
            var node = Node(
                feature: Int32(featureIDs[index]), threshold: values[index], trueChild: -1, falseChild: -1, mode: parsed,
                missingGoesTrue: index < missing.count && missing[index] != 0)
            if parsed != .leaf {
                maxFeature = max(maxFeature, Int(featureIDs[index]))
                guard let yes = position[TreeNodeKey(tree: treeIDs[index], node: trueIDs[index])],
                    let no = position[TreeNodeKey(tree: treeIDs[index], node: falseIDs[index])]
                else { throw context.fail("a branch of tree \(treeIDs[index]) points at a missing node") }
                node.trueChild = Int32(yes)
                node.falseChild = Int32(no)
            }
            nodes.append(node)
        }
        var seenTrees = Set<Int64>()
        for index in 0..<count where seenTrees.insert(treeIDs[index]).inserted {
            guard let root = position[TreeNodeKey(tree: treeIDs[index], node: 0)] else {
                throw context.fail("tree \(treeIDs[index]) has no node 0")
            }
            roots.append(Int32(root))
        }
        let voteTrees = try context.ints(votePrefix + "_treeids")
        let voteNodes = try context.ints(votePrefix + "_nodeids")
        let voteIDs = try context.ints(votePrefix + "_ids")
        let voteWeights = try context.floats(votePrefix + "_weights")
        guard [voteNodes.count, voteIDs.count, voteWeights.count].allSatisfy({ $0 == voteTrees.count }) else {
            throw context.fail("\(votePrefix)_* attributes have different lengths")
        }
        var votes: [[(Int32, Float)]] = Array(repeating: [], count: count)
        for index in 0..<voteTrees.count {
            guard let node = position[TreeNodeKey(tree: voteTrees[index], node: voteNodes[index])] else {
                throw context.fail("a vote points at a missing node")
            }
            votes[node].append((Int32(voteIDs[index]), voteWeights[index]))
        }
        for node in 0..<count {
            leafStart.append(Int32(leafTarget.count))
            leafCount.append(Int32(votes[node].count))
            for (target, weight) in votes[node] {
                leafTarget.append(target)
                leafWeight.append(weight)
            }
        }
    }

    /// The leaf that `row` (features starting at `offset` in `x`) reaches in the tree at `root`.
    /// The leaf that row `x[offset...]` reaches from `root`.
    @inline(__always)
    static func leaf(from root: Int32, in nodes: UnsafeBufferPointer<Node>, _ x: UnsafeBufferPointer<Float>, offset: Int) -> Int {
        var index = Int(root)
        while true {
            let node = nodes[index]
            if node.mode == .leaf { return index }
            let value = x[offset + Int(node.feature)]
            let goesTrue: Bool
            if value.isNaN {
                goesTrue = node.missingGoesTrue
            } else {
                switch node.mode {
                case .lessOrEqual: goesTrue = value <= node.threshold
                case .less: goesTrue = value < node.threshold
                case .greaterOrEqual: goesTrue = value >= node.threshold
                case .greater: goesTrue = value > node.threshold
                case .equal: goesTrue = value == node.threshold
                case .notEqual: goesTrue = value != node.threshold
                case .leaf: goesTrue = false
                }
            }
            index = Int(goesTrue ? node.trueChild : node.falseChild)
        }
    }

    /// Sums every tree's votes for one row into `scores` (and marks the targets voted for);
    /// `nodes` is `self.nodes`, opened once per batch by the caller.
    func accumulate(
        _ x: UnsafeBufferPointer<Float>, offset: Int, nodes: UnsafeBufferPointer<Node>, targets: Int, scores: inout [Float], hasScore: inout [Bool]
    ) {
        for index in 0..<targets {
            scores[index] = 0
            hasScore[index] = false
        }
        for root in roots {
            let node = Self.leaf(from: root, in: nodes, x, offset: offset)
            let start = Int(leafStart[node])
            for vote in start..<(start + Int(leafCount[node])) {
                let target = Int(leafTarget[vote])
                scores[target] += leafWeight[vote]
                hasScore[target] = true
            }
        }
    }
}

struct TreeNodeKey: Hashable {
    let tree: Int64
    let node: Int64
}

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
        trees = try CompiledTrees(context: context, votePrefix: "target")
        targets = Int(try context.int("n_targets", default: 1))
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
        var result = [Float](repeating: 0, count: rows * targets)
        var scores = [Float](repeating: 0, count: targets)
        var hasScore = [Bool](repeating: false, count: targets)
        let treeCount = Float(trees.roots.count)
        x.withUnsafeBufferPointer { buffer in
            trees.nodes.withUnsafeBufferPointer { nodes in
                for row in 0..<rows {
                    trees.accumulate(buffer, offset: row * columns, nodes: nodes, targets: targets, scores: &scores, hasScore: &hasScore)
                    for target in 0..<targets {
                        var score = average ? scores[target] / treeCount : scores[target]
                        if baseValues.count == targets { score += baseValues[target] } else if baseValues.count == 1 { score += baseValues[0] }
                        result[row * targets + target] = score
                    }
                }
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
        trees = try CompiledTrees(context: context, votePrefix: "class")
        labels = try ClassLabels(context: context)
        baseValues = try context.floats("base_values", default: [])
        transform = try PostTransform(context: context)
        binaryCase = labels.count == 2 && Set(trees.leafTarget).count == 1
        weightsArePositive = trees.leafWeight.allSatisfy { $0 >= 0 }
    }

    func run(_ slots: inout [Tensor?]) throws {
        let (x, rows, columns) = try treeInput(try slots.value(input), trees: trees)
        let classes = labels.count
        var chosen = [Int](repeating: 0, count: rows)
        var output: [Float] = []
        output.reserveCapacity(rows * classes)
        var scores = [Float](repeating: 0, count: classes)
        var hasScore = [Bool](repeating: false, count: classes)
        x.withUnsafeBufferPointer { buffer in
            trees.nodes.withUnsafeBufferPointer { nodes in
                for row in 0..<rows {
                    trees.accumulate(buffer, offset: row * columns, nodes: nodes, targets: classes, scores: &scores, hasScore: &hasScore)
                    let (label, rowScores) = classes > 2 ? multiclass(scores, hasScore) : binary(scores, hasScore)
                    chosen[row] = label
                    output += rowScores
                }
            }
        }
        slots[labelOutput] = labels.tensor(for: chosen)
        if let scoreOutput { slots[scoreOutput] = Tensor(.float(output), shape: [rows, output.count / max(rows, 1)]) }
    }

    private func multiclass(_ scores: [Float], _ hasScore: [Bool]) -> (Int, [Float]) {
        var scores = scores
        var hasScore = hasScore
        for index in 0..<min(baseValues.count, scores.count) {
            scores[index] = hasScore[index] ? scores[index] + baseValues[index] : baseValues[index]
            hasScore[index] = true
        }
        var best = -1
        for index in scores.indices where hasScore[index] && (best == -1 || scores[index] > scores[best]) { best = index }
        return (max(best, 0), transform.apply(scores, rows: 1, width: scores.count, secondClass: nil))
    }

    private func binary(_ scores: [Float], _ hasScore: [Bool]) -> (Int, [Float]) {
        var scores = scores
        var secondClass: PostTransform.SecondClass?
        var singleScore = false
        if baseValues.count == 2 {
            if hasScore[1] {
                scores[1] = baseValues[1] + scores[0]
                scores[0] = -scores[1]
            } else {
                scores[1] += baseValues[1]
                scores[0] += baseValues[0]
            }
        } else if baseValues.count == 1 {
            scores[0] += baseValues[0]
            singleScore = !hasScore[1]
        } else {
            secondClass = .negation
            singleScore = !hasScore[1]
        }
        let positive = hasScore[1] && !singleScore ? scores[1] : (hasScore[0] ? scores[0] : 0)
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
        if singleScore {
            return (label, transform.apply([scores[0]], rows: 1, width: 1, secondClass: secondClass))
        }
        return (label, transform.apply(scores, rows: 1, width: 2, secondClass: nil))
    }
}
