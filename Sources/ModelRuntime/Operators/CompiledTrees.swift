/// Trees compiled into one array of packed nodes. A branch's children are indices into the same
/// array, a leaf is referenced as `~index` (negative), so a walk stops on the sign of the next
/// index. Leaves keep the range of their `(target, weight)` votes. Comparisons are in 32-bit
/// floats, as onnxruntime does for float models.
///
/// Shallow trees (the usual boosting trees) are also laid out level by level (`LevelTree`): a
/// walk then finds a child by arithmetic instead of reading it, and all rows take equally many
/// steps, so several rows walk in lockstep.
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

    /// A branch of a tree laid out level by level.
    struct LevelBranch: Sendable {
        var feature: Int32
        var threshold: Float
        var mode: Mode
        var missingGoesTrue: Bool
    }

    /// A leaf reached at the last level of a tree laid out by level: its node reference, and
    /// its vote when every leaf of the tree has exactly one (`LevelTree.singleVotes`).
    struct LeafSlot: Sendable {
        var reference: Int32
        var vote: Vote
    }

    /// A tree laid out level by level in `levelBranches` from `branches`: the children of the
    /// branch at `i` (counted from the root) are at `2i + 1` (true) and `2i + 2` (false), and
    /// after `depth` steps the walk is at `2^depth - 1 + slot`, where `leafSlots[leaves + slot]`
    /// is the leaf reached. A leaf above the last level stands for itself under a branch that
    /// leads to it both ways.
    struct LevelTree: Sendable {
        var depth: Int32
        var branches: Int32
        var leaves: Int32
        /// Every leaf of the tree has exactly one vote (kept in its slot).
        var singleVotes: Bool
    }

    /// Each tree's first node (`~index` when the tree is a single leaf).
    var roots: [Int32] = []
    /// Each tree's level layout, or nil for a tree walked node by node (too deep or too uneven).
    var levelTrees: [LevelTree?] = []
    var levelBranches: [LevelBranch] = []
    var leafSlots: [LeafSlot] = []
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
        for root in roots { levelTrees.append(layOutByLevel(root)) }
    }

    /// The deepest tree laid out level by level (its last level has 2^10 slots).
    private static let maximumLevelDepth = 10

    /// Lays out the tree under `root` level by level when it is at most `maximumLevelDepth` deep
    /// and its leaves fill at least half of the last level's slots; nil otherwise.
    private mutating func layOutByLevel(_ root: Int32) -> LevelTree? {
        var levels: [[Int32]] = [[root]]
        var branches = 0
        while let level = levels.last, level.contains(where: { $0 >= 0 }) {
            guard levels.count <= Self.maximumLevelDepth else { return nil }
            branches += level.count(where: { $0 >= 0 })
            levels.append(level.flatMap { $0 < 0 ? [$0, $0] : [nodes[Int($0)].trueChild, nodes[Int($0)].falseChild] })
        }
        let last = levels.removeLast()
        // A tree of b branches has b + 1 leaves.
        guard last.count <= 2 * (branches + 1) else { return nil }
        let singleVotes = last.allSatisfy { nodes[Int(~$0)].falseChild == 1 }
        let tree = LevelTree(depth: Int32(levels.count), branches: Int32(levelBranches.count), leaves: Int32(leafSlots.count), singleVotes: singleVotes)
        for reference in levels.joined() {
            // A leaf above the last level becomes a branch whose two ways lead to it.
            let node = reference >= 0 ? nodes[Int(reference)] : nil
            levelBranches.append(LevelBranch(
                feature: node?.feature ?? 0, threshold: node?.threshold ?? 0, mode: node?.mode ?? .lessOrEqual, missingGoesTrue: node?.missingGoesTrue ?? false))
        }
        for reference in last {
            let leaf = nodes[Int(~reference)]
            leafSlots.append(LeafSlot(reference: reference, vote: singleVotes ? votes[Int(leaf.trueChild)] : Vote(target: 0, weight: 0)))
        }
        return tree
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
                    // Imputed or complete inputs have no missing value: their walk skips the check.
                    if x.contains(where: \.isNaN) {
                        accumulate(walk, rows: rows, MissingValues.self)
                    } else {
                        accumulate(walk, rows: rows, NoMissingValues.self)
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
    /// independent (different rows), and each row still adds its trees in order. A tree laid out
    /// by level is walked four rows at a time in lockstep, so that the four chains of loads
    /// overlap; other trees row by row until a leaf.
    private func accumulate<Missing: MissingValueCheck>(_ walk: Walk, rows: Int, _: Missing.Type) {
        switch sharedMode {
        case .lessOrEqual: accumulate(walk, rows: rows, LessOrEqual.self, Missing.self)
        case .less: accumulate(walk, rows: rows, Less.self, Missing.self)
        case .greaterOrEqual: accumulate(walk, rows: rows, GreaterOrEqual.self, Missing.self)
        case .greater: accumulate(walk, rows: rows, Greater.self, Missing.self)
        default: accumulate(walk, rows: rows, AnyMode.self, Missing.self)
        }
    }

    private func accumulate<Test: BranchTest, Missing: MissingValueCheck>(_ walk: Walk, rows: Int, _: Test.Type, _: Missing.Type) {
        let blockSize = 16
        nodes.withUnsafeBufferPointer { nodes in
            votes.withUnsafeBufferPointer { votes in
                levelBranches.withUnsafeBufferPointer { levelBranches in
                    leafSlots.withUnsafeBufferPointer { leafSlots in
                        func add(_ leafReference: Int32, row: Int) {
                            let leaf = nodes[Int(~leafReference)]
                            let sums = row &* walk.targets
                            for vote in votes[Int(leaf.trueChild)..<Int(leaf.trueChild &+ leaf.falseChild)] {
                                walk.scores[sums &+ Int(vote.target)] += vote.weight
                                walk.voted[sums &+ Int(vote.target)] = true
                            }
                        }
                        func add(_ slot: LeafSlot, row: Int, single: Bool) {
                            guard single else { return add(slot.reference, row: row) }
                            let sum = row &* walk.targets &+ Int(slot.vote.target)
                            walk.scores[sum] += slot.vote.weight
                            walk.voted[sum] = true
                        }
                        let x = walk.x.baseAddress!
                        for blockStart in stride(from: 0, to: rows, by: blockSize) {
                            let blockEnd = min(blockStart + blockSize, rows)
                            for (root, levelTree) in zip(roots, levelTrees) {
                                var row = blockStart
                                guard let tree = levelTree else {
                                    while row < blockEnd {
                                        var index = root
                                        while index >= 0 { index = Self.step(from: index, x + row * walk.columns, nodes, Test.self) }
                                        add(index, row: row)
                                        row += 1
                                    }
                                    continue
                                }
                                let branches = levelBranches.baseAddress! + Int(tree.branches)
                                // The walk ends at 2^depth - 1 + slot.
                                let slots = Int(tree.leaves) - ((1 << Int(tree.depth)) - 1)
                                while row + 4 <= blockEnd {
                                    let features = x + row * walk.columns
                                    var (first, second, third, fourth) = (0, 0, 0, 0)
                                    for _ in 0..<tree.depth {
                                        first = Self.step(from: first, features, branches, Test.self, Missing.self)
                                        second = Self.step(from: second, features + walk.columns, branches, Test.self, Missing.self)
                                        third = Self.step(from: third, features + 2 * walk.columns, branches, Test.self, Missing.self)
                                        fourth = Self.step(from: fourth, features + 3 * walk.columns, branches, Test.self, Missing.self)
                                    }
                                    add(leafSlots[slots &+ first], row: row, single: tree.singleVotes)
                                    add(leafSlots[slots &+ second], row: row + 1, single: tree.singleVotes)
                                    add(leafSlots[slots &+ third], row: row + 2, single: tree.singleVotes)
                                    add(leafSlots[slots &+ fourth], row: row + 3, single: tree.singleVotes)
                                    row += 4
                                }
                                while row < blockEnd {
                                    var index = 0
                                    for _ in 0..<tree.depth { index = Self.step(from: index, x + row * walk.columns, branches, Test.self, Missing.self) }
                                    add(leafSlots[slots &+ index], row: row, single: tree.singleVotes)
                                    row += 1
                                }
                            }
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
        let goesTrue = bit(Test.goesTrue(value, node.threshold, node.mode)) | (bit(value.isNaN) & bit(node.missingGoesTrue))
        return node.falseChild ^ ((node.trueChild ^ node.falseChild) & (0 &- goesTrue))
    }

    /// One step down a tree laid out by level, from the branch at `index` (counted from the
    /// root): to `2 * index + 1` when the row goes the true way, else to `2 * index + 2`.
    @inline(__always)
    private static func step<Test: BranchTest, Missing: MissingValueCheck>(
        from index: Int, _ features: UnsafePointer<Float>, _ branches: UnsafePointer<LevelBranch>, _: Test.Type, _: Missing.Type
    ) -> Int {
        let branch = branches[index]
        let value = features[Int(branch.feature)]
        var goesTrue = bit(Test.goesTrue(value, branch.threshold, branch.mode))
        if Missing.possible { goesTrue |= bit(value.isNaN) & bit(branch.missingGoesTrue) }
        return 2 &* index &+ 2 &- Int(goesTrue)
    }
}

extension CompiledTrees {
    @inline(__always)
    fileprivate static func bit(_ value: Bool) -> Int32 { value ? 1 : 0 }
}

/// Whether a batch's features may hold missing values (NaN), as a type so that a walk over a
/// batch without any is compiled without the check.
private protocol MissingValueCheck {
    static var possible: Bool { get }
}

private enum MissingValues: MissingValueCheck {
    static var possible: Bool { true }
}

private enum NoMissingValues: MissingValueCheck {
    static var possible: Bool { false }
}

/// A branch's comparison, as a type so that each walk is compiled for one comparison. As in
/// onnxruntime, a missing (NaN) value goes the true way when the comparison says so or the
/// node's missing-value track does.
private protocol BranchTest {
    static func goesTrue(_ value: Float, _ threshold: Float, _ mode: CompiledTrees.Mode) -> Bool
}

private enum LessOrEqual: BranchTest {
    static func goesTrue(_ value: Float, _ threshold: Float, _ mode: CompiledTrees.Mode) -> Bool { value <= threshold }
}

private enum Less: BranchTest {
    static func goesTrue(_ value: Float, _ threshold: Float, _ mode: CompiledTrees.Mode) -> Bool { value < threshold }
}

private enum GreaterOrEqual: BranchTest {
    static func goesTrue(_ value: Float, _ threshold: Float, _ mode: CompiledTrees.Mode) -> Bool { value >= threshold }
}

private enum Greater: BranchTest {
    static func goesTrue(_ value: Float, _ threshold: Float, _ mode: CompiledTrees.Mode) -> Bool { value > threshold }
}

/// Trees that mix comparisons: each node's own mode.
private enum AnyMode: BranchTest {
    static func goesTrue(_ value: Float, _ threshold: Float, _ mode: CompiledTrees.Mode) -> Bool {
        switch mode {
        case .lessOrEqual: value <= threshold
        case .less: value < threshold
        case .greaterOrEqual: value >= threshold
        case .greater: value > threshold
        case .equal: value == threshold
        case .notEqual: value != threshold
        case .leaf: false
        }
    }
}

struct TreeNodeKey: Hashable {
    let tree: Int64
    let node: Int64
}
