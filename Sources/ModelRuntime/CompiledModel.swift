import Foundation

/// A model compiled once at load into a plan: values live in numbered slots (no dictionary
/// lookups while scoring), initializers are pre-filled, and every operator is known to be
/// supported — an unsupported one is refused here, naming the node and operator.
public struct CompiledModel: Sendable {
    public let inputs: [ValueInfo]
    public let outputs: [ValueInfo]
    /// The class labels of the model's classifier (its `classlabels_*`, or ZipMap's), in score order.
    public let classLabels: [String]?
    /// How the feature mapping hands the inputs over (see `ModelFeed`), in `evaluate(feeds:)`'s order.
    public let feeds: [ModelFeed]
    private let kernels: [any Kernel]
    /// `kernels` without those of the nodes the feeds do.
    private let kernelsAfterFeeds: [any Kernel]
    private let initialSlots: [Tensor?]
    /// The slots of the inputs and outputs, in their order.
    private let inputSlots: [Int]
    private let outputSlots: [Int]

    /// Loads and compiles ONNX bytes.
    public init(onnx bytes: Data) throws {
        try self.init(try ModelGraph(onnx: bytes))
    }

    public init(_ graph: ModelGraph) throws {
        var slots: [String: Int] = [:]
        var initial: [Tensor?] = []
        func slot(for name: String) -> Int {
            if let existing = slots[name] { return existing }
            slots[name] = initial.count
            initial.append(nil)
            return initial.count - 1
        }
        var constants: [Int: Tensor] = [:]
        for (name, tensor) in graph.initializers {
            let index = slot(for: name)
            initial[index] = tensor
            constants[index] = tensor
        }
        inputSlots = graph.inputs.map { slot(for: $0.name) }
        var available = Set(slots.keys)
        var kernels: [any Kernel] = []
        var classLabels: [String]?
        for node in graph.nodes {
            if let labels = Self.classLabels(of: node) { classLabels = labels }
            let key = OperatorRegistry.key(domain: node.domain, opType: node.opType)
            guard let factory = OperatorRegistry.factories[key] else {
                throw ModelError.unsupportedOperator(domain: node.domain, opType: node.opType, node: node.name)
            }
            for input in node.inputs where !input.isEmpty && !available.contains(input) {
                throw ModelError.invalidModel("node \"\(node.name)\" reads \"\(input)\" before it is produced")
            }
            let context = NodeContext(
                node: node, inputSlots: node.inputs.map { $0.isEmpty ? -1 : slot(for: $0) },
                outputSlots: node.outputs.map { slot(for: $0) }, constants: constants)
            kernels.append(try factory(context))
            available.formUnion(node.outputs)
        }
        for output in graph.outputs where !available.contains(output.name) {
            throw ModelError.invalidModel("output \"\(output.name)\" is never produced")
        }
        outputSlots = graph.outputs.map { slot(for: $0.name) }
        let (feeds, fusedNodes) = Self.feeds(of: graph, slot: slot(for:))
        self.feeds = feeds
        self.kernels = kernels
        kernelsAfterFeeds = kernels.indices.filter { !fusedNodes.contains($0) }.map { kernels[$0] }
        self.classLabels = classLabels
        initialSlots = initial
        inputs = graph.inputs
        outputs = graph.outputs
    }

    /// Scores a batch: one tensor per model input, by name.
    public func evaluate(_ feeds: [String: Tensor]) throws -> [String: Tensor] {
        let tensors = try inputs.map { info in
            guard let tensor = feeds[info.name] else { throw ModelError.missingInput(info.name) }
            return tensor
        }
        return Dictionary(uniqueKeysWithValues: zip(outputs.map(\.name), try evaluate(inputs: tensors)))
    }

    /// Scores a batch: one tensor per model input in the order of `inputs`; the outputs in the
    /// order of `outputs`. No name is looked up.
    public func evaluate(inputs tensors: [Tensor]) throws -> [Tensor] {
        if tensors.count < inputs.count { throw ModelError.missingInput(inputs[tensors.count].name) }
        var slots = initialSlots
        for (index, tensor) in zip(inputSlots, tensors) { slots[index] = tensor }
        for kernel in kernels { try kernel.run(&slots) }
        return try outputSlots.map { try slots.value($0) }
    }

    /// Scores a batch: one tensor per feed, in the order of `feeds` (a feed of several inputs
    /// gives their columns side by side); the outputs in the order of `outputs`.
    public func evaluate(feeds tensors: [Tensor]) throws -> [Tensor] {
        guard tensors.count == feeds.count else { throw ModelError.typeMismatch("\(tensors.count) feeds for a model of \(feeds.count)") }
        var slots = initialSlots
        for (feed, tensor) in zip(feeds, tensors) { slots[feed.slot] = tensor }
        for kernel in kernelsAfterFeeds { try kernel.run(&slots) }
        return try outputSlots.map { try slots.value($0) }
    }

    private static func classLabels(of node: GraphNode) -> [String]? {
        guard ["LinearClassifier", "TreeEnsembleClassifier", "ZipMap"].contains(node.opType) else { return nil }
        if case .strings(let labels)? = node.attributes["classlabels_strings"], !labels.isEmpty { return labels }
        for name in ["classlabels_ints", "classlabels_int64s"] {
            if case .ints(let labels)? = node.attributes[name], !labels.isEmpty { return labels.map { String($0) } }
        }
        return nil
    }

}
