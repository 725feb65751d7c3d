/// Trees compiled into one array of packed nodes. A branch's children are indices into the same
/// array, a leaf is referenced as `~index` (negative), so a walk stops on the sign of the next
/// index. Leaves keep the range of their `(target, weight)` votes. Comparisons are in 32-bit
/// floats, as onnxruntime does for float models.
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

    /// One node, packed so that a step down a tree reads one place in memory. For a leaf,
    /// `trueChild` is its first vote and `falseChild` its number of votes.
    struct Node: Sendable {
        var feature: Int32
        var threshold: Float
        var trueChild: Int32
        var falseChild: Int32
        var mode: Mode
        var missingGoesTrue: Bool
    }

    /// One leaf's contribution to a target's score.
    struct Vote: Sendable {
        var target: Int32
        var weight: Float
    }

    /// Each tree's first node (`~index` when the tree is a single leaf), and the depth of all
    /// its leaves when they are equally deep (-1 when they are not).
    var roots: [Int32] = []
    var evenDepths: [Int32] = []
    var nodes: [Node] = []
    var votes: [Vote] = []
    var maxFeature = -1
    /// The comparison every branch uses, when they all use one (the usual case), which lets
    /// the walk run without a switch per node.
    var sharedMode: Mode?

    /// Builds from the `nodes_*` attributes and the leaf votes (`class_*` or `target_*`) for
    /// `targets` scores; what a walk would read or write out of bounds is refused here.
    init(context: NodeContext, votePrefix: String, targets: Int) throws {
        let treeIDs = try context.ints("nodes_treeids")
        let nodeIDs = try context.ints("nodes_nodeids")
        let featureIDs = try context.ints("nodes_featureids")
        let values = try context.floats("nodes_values")
        let modes = try context.strings("nodes_modes").map { text in
            guard let mode = Mode(text) else { throw context.fail("unknown node mode \(text)") }
            return mode
        }
        let trueIDs = try context.ints("nodes_truenodeids")
        let falseIDs = try context.ints("nodes_falsenodeids")
        let missing = try context.ints("nodes_missing_value_tracks_true", default: [])
        let count = treeIDs.count
        guard [nodeIDs.count, featureIDs.count, values.count, modes.count, trueIDs.count, falseIDs.count].allSatisfy({ $0 == count })
        else { throw context.fail("nodes_* attributes have different lengths") }
        var position: [TreeNodeKey: Int] = [:]
        for index in 0..<count { position[TreeNodeKey(tree: treeIDs[index], node: nodeIDs[index])] = index }
        func reference(tree: Int64, node: Int64) throws -> Int32 {
            guard let index = position[TreeNodeKey(tree: tree, node: node)] else {
                throw context.fail("a branch of tree \(tree) points at a missing node")
            }
            return modes[index] == .leaf ? ~Int32(index) : Int32(index)
        }
        let votesByNode = try Self.votes(context: context, prefix: votePrefix, nodes: count, position: position, targets: targets)
        var branchModes = Set<Mode>()
        for index in 0..<count {
            var node = Node(
                feature: Int32(truncatingIfNeeded: featureIDs[index]), threshold: values[index], trueChild: 0, falseChild: 0, mode: modes[index],
                missingGoesTrue: index < missing.count && missing[index] != 0)
            if modes[index] == .leaf {
                node.trueChild = Int32(votes.count)
                node.falseChild = Int32(votesByNode[index].count)
                votes += votesByNode[index]
            } else {
                branchModes.insert(modes[index])
                guard (0...Int64(Int32.max)).contains(featureIDs[index]) else {
                    throw context.fail("a branch of tree \(treeIDs[index]) reads feature \(featureIDs[index])")
                }
                maxFeature = max(maxFeature, Int(featureIDs[index]))
                node.trueChild = try reference(tree: treeIDs[index], node: trueIDs[index])
                node.falseChild = try reference(tree: treeIDs[index], node: falseIDs[index])
            }
            nodes.append(node)
        }
        sharedMode = branchModes.count == 1 ? branchModes.first : nil
        var seenTrees = Set<Int64>()
        var trees: [Int64] = []
        for index in 0..<count where seenTrees.insert(treeIDs[index]).inserted {
            guard position[TreeNodeKey(tree: treeIDs[index], node: 0)] != nil else {
                throw context.fail("tree \(treeIDs[index]) has no node 0")
            }
            roots.append(try reference(tree: treeIDs[index], node: 0))
            trees.append(treeIDs[index])
        }
        try refuseLoops(trees: trees, context: context)
        evenDepths = roots.map(evenDepth(from:))
    }

    /// The depth of every leaf under `root` when they are all equally deep, else -1.
    private func evenDepth(from root: Int32) -> Int32 {
        var level = [root]
        var depth: Int32 = 0
        while level.allSatisfy({ $0 >= 0 }) {
            level = level.flatMap { [nodes[Int($0)].trueChild, nodes[Int($0)].falseChild] }
            depth += 1
            // Branches that share a child (not a tree, though it has no loop) are walked row by row.
            if level.count > nodes.count { return -1 }
        }
        return level.allSatisfy { $0 < 0 } ? depth : -1
    }

    /// Fails when a branch leads back to a node on its own way down (a walk would never reach a
    /// leaf): a depth-first search per tree, marking the nodes on the current way down.
    private func refuseLoops(trees: [Int64], context: NodeContext) throws {
        enum Mark { case unseen, onTheWayDown, done }
        var marks = [Mark](repeating: .unseen, count: nodes.count)
        for (root, tree) in zip(roots, trees) where root >= 0 {
            var way: [(node: Int, childrenSeen: Int)] = [(Int(root), 0)]
            marks[Int(root)] = .onTheWayDown
            while let (node, childrenSeen) = way.last {
                guard childrenSeen < 2 else {
                    marks[node] = .done
                    way.removeLast()
                    continue
                }
                way[way.count - 1].childrenSeen += 1
                let child = childrenSeen == 0 ? nodes[node].trueChild : nodes[node].falseChild
                guard child >= 0 else { continue }
                switch marks[Int(child)] {
                case .onTheWayDown: throw context.fail("tree \(tree) has a branch that leads back into itself")
                case .unseen:
                    marks[Int(child)] = .onTheWayDown
                    way.append((Int(child), 0))
                case .done: continue
                }
            }
        }
    }

    /// The votes of every node, from the `<prefix>_*` attributes.
    private static func votes(context: NodeContext, prefix: String, nodes: Int, position: [TreeNodeKey: Int], targets: Int) throws -> [[Vote]] {
        let voteTrees = try context.ints(prefix + "_treeids")
        let voteNodes = try context.ints(prefix + "_nodeids")
        let voteIDs = try context.ints(prefix + "_ids")
        let voteWeights = try context.floats(prefix + "_weights")
        guard [voteNodes.count, voteIDs.count, voteWeights.count].allSatisfy({ $0 == voteTrees.count }) else {
            throw context.fail("\(prefix)_* attributes have different lengths")
        }
        var votes: [[Vote]] = Array(repeating: [], count: nodes)
        for index in 0..<voteTrees.count {
            guard let node = position[TreeNodeKey(tree: voteTrees[index], node: voteNodes[index])] else {
                throw context.fail("a vote points at a missing node")
            }
            guard (0..<Int64(targets)).contains(voteIDs[index]) else {
                throw context.fail("a vote is for score \(voteIDs[index]), but there are \(targets)")
            }
            votes[node].append(Vote(target: Int32(voteIDs[index]), weight: voteWeights[index]))
        }
        return votes
    }

    /// Every tree's votes summed per row and target (`rows × targets`, row-major), and whether
    /// any vote reached each row's target. `x` holds `rows × columns` features.
    func sums(_ x: [Float], rows: Int, columns: Int, targets: Int) -> (scores: [Float], voted: [Bool]) {
        var scores = [Float](repeating: 0, count: rows * targets)
        var voted = [Bool](repeating: false, count: rows * targets)
        // Trees that are all single leaves read no feature, and their input may have no columns.
        let x = x.isEmpty ? [0] : x
        x.withUnsafeBufferPointer { x in
            scores.withUnsafeMutableBufferPointer { scores in
                voted.withUnsafeMutableBufferPointer { voted in
                    let walk = Walk(x: x, columns: columns, targets: targets, scores: scores, voted: voted)
                    switch sharedMode {
                    case .lessOrEqual: accumulate(walk, rows: rows, LessOrEqual.self)
                    case .less: accumulate(walk, rows: rows, Less.self)
                    case .greaterOrEqual: accumulate(walk, rows: rows, GreaterOrEqual.self)
                    case .greater: accumulate(walk, rows: rows, Greater.self)
                    default: accumulate(walk, rows: rows, AnyMode.self)
                    }
                }
            }
        }
        return (scores, voted)
    }

    /// Where a batch's features come from and its sums go.
    private struct Walk {
        let x: UnsafeBufferPointer<Float>
        let columns: Int
        let targets: Int
        let scores: UnsafeMutableBufferPointer<Float>
        let voted: UnsafeMutableBufferPointer<Bool>
    }

    /// Walks every row down every tree with one branch test, adding each reached leaf's votes.
    /// Rows go in blocks, each tree over the whole block: consecutive walks and sums are then
    /// independent (different rows), and each row still adds its trees in order. A tree whose
    /// leaves are all equally deep is walked four rows at a time in lockstep, so that the four
    /// chains of loads overlap; other trees row by row until a leaf.
    private func accumulate<Test: BranchTest>(_ walk: Walk, rows: Int, _: Test.Type) {
        let blockSize = 16
        nodes.withUnsafeBufferPointer { nodes in
            votes.withUnsafeBufferPointer { votes in
                func add(_ leafReference: Int32, row: Int) {
                    let leaf = nodes[Int(~leafReference)]
                    let sums = row &* walk.targets
                    for vote in votes[Int(leaf.trueChild)..<Int(leaf.trueChild &+ leaf.falseChild)] {
                        walk.scores[sums &+ Int(vote.target)] += vote.weight
                        walk.voted[sums &+ Int(vote.target)] = true
                    }
                }
                let x = walk.x.baseAddress!
                for blockStart in stride(from: 0, to: rows, by: blockSize) {
                    let blockEnd = min(blockStart + blockSize, rows)
                    for (root, depth) in zip(roots, evenDepths) {
                        var row = blockStart
                        if depth >= 0 {
                            while row + 4 <= blockEnd {
                                let features = x + row * walk.columns
                                var (first, second, third, fourth) = (root, root, root, root)
                                for _ in 0..<depth {
                                    first = Self.step(from: first, features, nodes, Test.self)
                                    second = Self.step(from: second, features + walk.columns, nodes, Test.self)
                                    third = Self.step(from: third, features + 2 * walk.columns, nodes, Test.self)
                                    fourth = Self.step(from: fourth, features + 3 * walk.columns, nodes, Test.self)
                                }
                                add(first, row: row)
                                add(second, row: row + 1)
                                add(third, row: row + 2)
                                add(fourth, row: row + 3)
                                row += 4
                            }
                        }
                        while row < blockEnd {
                            var index = root
                            while index >= 0 { index = Self.step(from: index, x + row * walk.columns, nodes, Test.self) }
                            add(index, row: row)
                            row += 1
                        }
                    }
                }
            }
        }
    }

    /// One step down from the branch at `index` for the row whose features start at `features`.
    /// Without a jump: which child a row takes is data, and a mispredicted jump per node costs
    /// more than computing both.
    @inline(__always)
    private static func step<Test: BranchTest>(
        from index: Int32, _ features: UnsafePointer<Float>, _ nodes: UnsafeBufferPointer<Node>, _: Test.Type
    ) -> Int32 {
        let node = nodes[Int(index)]
        let value = features[Int(node.feature)]
        let goesTrue = bit(Test.goesTrue(value, node)) | (bit(value.isNaN) & bit(node.missingGoesTrue))
        return node.falseChild ^ ((node.trueChild ^ node.falseChild) & (0 &- goesTrue))
    }
}

extension CompiledTrees {
    @inline(__always)
    fileprivate static func bit(_ value: Bool) -> Int32 { value ? 1 : 0 }
}

/// A branch's comparison, as a type so that each walk is compiled for one comparison. As in
/// onnxruntime, a missing (NaN) value goes the true way when the comparison says so or the
/// node's missing-value track does.
private protocol BranchTest {
    static func goesTrue(_ value: Float, _ node: CompiledTrees.Node) -> Bool
}

private enum LessOrEqual: BranchTest {
    static func goesTrue(_ value: Float, _ node: CompiledTrees.Node) -> Bool { value <= node.threshold }
}

private enum Less: BranchTest {
    static func goesTrue(_ value: Float, _ node: CompiledTrees.Node) -> Bool { value < node.threshold }
}

private enum GreaterOrEqual: BranchTest {
    static func goesTrue(_ value: Float, _ node: CompiledTrees.Node) -> Bool { value >= node.threshold }
}

private enum Greater: BranchTest {
    static func goesTrue(_ value: Float, _ node: CompiledTrees.Node) -> Bool { value > node.threshold }
}

/// Trees that mix comparisons: each node's own mode.
private enum AnyMode: BranchTest {
    static func goesTrue(_ value: Float, _ node: CompiledTrees.Node) -> Bool {
        switch node.mode {
        case .lessOrEqual: value <= node.threshold
        case .less: value < node.threshold
        case .greaterOrEqual: value >= node.threshold
        case .greater: value > node.threshold
        case .equal: value == node.threshold
        case .notEqual: value != node.threshold
        case .leaf: false
        }
    }
}

struct TreeNodeKey: Hashable {
    let tree: Int64
    let node: Int64
}
