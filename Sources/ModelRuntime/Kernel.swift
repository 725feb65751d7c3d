/// Evaluates one node: reads its input slots, writes its output slots.
protocol Kernel: Sendable {
    func run(_ slots: inout [Tensor?]) throws
}

/// What a kernel factory sees at compile time: the node, its slots, and constant inputs.
struct NodeContext {
    let node: GraphNode
    let inputSlots: [Int]
    let outputSlots: [Int]
    /// Initializer values by slot, for inputs that are constants (such as a Reshape's shape).
    let constants: [Int: Tensor]

    func attribute(_ name: String) -> Attribute? { node.attributes[name] }

    func int(_ name: String, default value: Int64? = nil) throws -> Int64 {
        if case .int(let number)? = attribute(name) { return number }
        if let value { return value }
        throw ModelError.invalidAttribute(node: node.name, attribute: name, reason: "is required (an integer)")
    }

    func float(_ name: String, default value: Float? = nil) throws -> Float {
        if case .float(let number)? = attribute(name) { return number }
        if let value { return value }
        throw ModelError.invalidAttribute(node: node.name, attribute: name, reason: "is required (a float)")
    }

    func string(_ name: String, default value: String? = nil) throws -> String {
        if case .string(let text)? = attribute(name) { return text }
        if let value { return value }
        throw ModelError.invalidAttribute(node: node.name, attribute: name, reason: "is required (a string)")
    }

    /// Floats from `name`, or from `name_as_tensor` (double precision variants).
    func floats(_ name: String, default value: [Float]? = nil) throws -> [Float] {
        if case .floats(let numbers)? = attribute(name) { return numbers }
        if case .tensor(let tensor)? = attribute(name + "_as_tensor") { return try tensor.floats() }
        if let value { return value }
        throw ModelError.invalidAttribute(node: node.name, attribute: name, reason: "is required (floats)")
    }

    func ints(_ name: String, default value: [Int64]? = nil) throws -> [Int64] {
        if case .ints(let numbers)? = attribute(name) { return numbers }
        if let value { return value }
        throw ModelError.invalidAttribute(node: node.name, attribute: name, reason: "is required (integers)")
    }

    func strings(_ name: String, default value: [String]? = nil) throws -> [String] {
        if case .strings(let texts)? = attribute(name) { return texts }
        if let value { return value }
        throw ModelError.invalidAttribute(node: node.name, attribute: name, reason: "is required (strings)")
    }

    /// The slot of input `index`, or nil when the optional input is absent.
    func input(_ index: Int) -> Int? { index < inputSlots.count && inputSlots[index] >= 0 ? inputSlots[index] : nil }

    func requireInput(_ index: Int) throws -> Int {
        guard let slot = input(index) else {
            throw ModelError.invalidModel("node \"\(node.name)\" (\(node.opType)) needs input \(index)")
        }
        return slot
    }

    func fail(_ reason: String) -> ModelError {
        ModelError.invalidModel("node \"\(node.name)\" (\(node.opType)): \(reason)")
    }
}

extension Array where Element == Tensor? {
    /// The tensor in `slot`; a missing value is a bug in the plan, reported as an error.
    func value(_ slot: Int) throws -> Tensor {
        guard let tensor = self[slot] else { throw ModelError.missingInput("slot \(slot)") }
        return tensor
    }
}
