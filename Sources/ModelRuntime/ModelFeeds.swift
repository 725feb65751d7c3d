/// Model inputs handed to the plan together. Converted pipelines give each numeric column an
/// input of its own (`[rows, 1]` floats) and join them at once with a `Concat` along columns;
/// such inputs form one feed whose tensor is the joined `[rows, k]` matrix, written by the
/// feature mapping straight into the `Concat`'s output, and the `Concat` is not run. Every
/// other input is a feed of its own.
public struct ModelFeed: Sendable, Equatable {
    /// The model inputs of this feed (indices into `CompiledModel.inputs`), in column order.
    public let inputs: [Int]
    /// Where the feed's tensor goes in the plan.
    let slot: Int
}

extension CompiledModel {
    /// The feeds of `graph` and the nodes whose work the feeds do (their kernels are skipped).
    static func feeds(of graph: ModelGraph, slot: (String) -> Int) -> (feeds: [ModelFeed], fusedNodes: Set<Int>) {
        let inputIndex = Dictionary(graph.inputs.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
        var readers: [String: Int] = [:]
        for node in graph.nodes { for input in node.inputs { readers[input, default: 0] += 1 } }
        let outputs = Set(graph.outputs.map(\.name))
        var fedTogether: [Int: ModelFeed] = [:]
        var fusedNodes = Set<Int>()
        for (index, node) in graph.nodes.enumerated() where OperatorRegistry.key(domain: node.domain, opType: node.opType) == "ai.onnx:Concat" {
            guard case .int(let axis)? = node.attributes["axis"], axis == 1 || axis == -1, node.outputs.count == 1 else { continue }
            let members = node.inputs.compactMap { inputIndex[$0] }
            guard members.count == node.inputs.count, Set(members).count == members.count,
                members.allSatisfy({ fedTogether[$0] == nil && Self.isOneFloatColumn(graph.inputs[$0]) }),
                node.inputs.allSatisfy({ readers[$0] == 1 && !outputs.contains($0) })
            else { continue }
            let feed = ModelFeed(inputs: members, slot: slot(node.outputs[0]))
            for member in members { fedTogether[member] = feed }
            fusedNodes.insert(index)
        }
        var feeds: [ModelFeed] = []
        for index in graph.inputs.indices {
            if let feed = fedTogether[index] {
                if feed.inputs.first == index { feeds.append(feed) }
            } else {
                feeds.append(ModelFeed(inputs: [index], slot: slot(graph.inputs[index].name)))
            }
        }
        return (feeds, fusedNodes)
    }

    private static func isOneFloatColumn(_ input: ValueInfo) -> Bool {
        input.elementType == .float && input.shape.count == 2 && input.shape[1] == 1
    }
}
