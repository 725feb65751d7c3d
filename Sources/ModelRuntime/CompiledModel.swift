import Foundation

/// A model compiled once at load into a plan: values live in numbered slots (no dictionary
/// lookups while scoring), initializers are pre-filled, and every operator is known to be
/// supported — an unsupported one is refused here, naming the node and operator.
public struct CompiledModel: Sendable {
    public let inputs: [ValueInfo]
    public let outputs: [ValueInfo]
    /// The class labels of the model's classifier (its `classlabels_*`, or ZipMap's), in score order.
    public let classLabels: [String]?
    private let kernels: [any Kernel]
    private let initialSlots: [Tensor?]
    private let inputSlots: [(ValueInfo, Int)]
    private let outputSlots: [(String, Int)]

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
        inputSlots = graph.inputs.map { ($0, slot(for: $0.name)) }
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
        outputSlots = graph.outputs.map { ($0.name, slot(for: $0.name)) }
        self.kernels = kernels
        self.classLabels = classLabels
        initialSlots = initial
        inputs = graph.inputs
        outputs = graph.outputs
    }

    /// Scores a batch: one tensor per model input, by name.
    public func evaluate(_ feeds: [String: Tensor]) throws -> [String: Tensor] {
        var slots = initialSlots
        for (info, index) in inputSlots {
            guard let tensor = feeds[info.name] else { throw ModelError.missingInput(info.name) }
            slots[index] = tensor
        }
        for kernel in kernels { try kernel.run(&slots) }
        var results: [String: Tensor] = [:]
        for (name, index) in outputSlots { results[name] = try slots.value(index) }
        return results
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
