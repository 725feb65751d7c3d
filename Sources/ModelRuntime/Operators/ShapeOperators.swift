/// `Concat` along an axis (any element type, all inputs of the same type).
struct ConcatKernel: Kernel {
    let inputs: [Int]
    let output: Int
    let axis: Int

    init(context: NodeContext) throws {
        inputs = context.inputSlots.filter { $0 >= 0 }
        output = context.outputSlots[0]
        axis = Int(try context.int("axis"))
    }

    func run(_ slots: inout [Tensor?]) throws {
        guard let firstSlot = inputs.first else { throw ModelError.typeMismatch("Concat without inputs") }
        let first = try slots.value(firstSlot)
        let rank = first.shape.count
        let axis = self.axis < 0 ? self.axis + rank : self.axis
        guard axis >= 0, axis < rank else { throw ModelError.typeMismatch("Concat: inputs of different ranks or a bad axis") }
        var kinds = (strings: 0, int64s: 0)
        var length = 0
        var outputWidth = 0
        for slot in inputs {
            let tensor = try slots.value(slot)
            guard tensor.shape.count == rank else { throw ModelError.typeMismatch("Concat: inputs of different ranks or a bad axis") }
            length += tensor.shape[axis]
            outputWidth += Self.width(of: tensor, from: axis)
            switch tensor.storage {
            case .string: kinds.strings += 1
            case .int64: kinds.int64s += 1
            default: break
            }
        }
        guard kinds.strings == 0 || kinds.strings == inputs.count else {
            throw ModelError.typeMismatch("Concat: strings and numbers cannot be joined")
        }
        var shape = first.shape
        shape[axis] = length
        let outer = first.shape[..<axis].reduce(1, *)
        // Each input's blocks are copied to their place in the output, input by input.
        func gather<T>(_ elements: (Tensor) throws -> [T]) throws -> [T] {
            try [T](unsafeUninitializedCapacity: outer * outputWidth) { result, count in
                var offset = 0
                for slot in inputs {
                    let tensor = slots[slot]!
                    let width = Self.width(of: tensor, from: axis)
                    try elements(tensor).withUnsafeBufferPointer { source in
                        for block in 0..<outer {
                            (result.baseAddress! + block * outputWidth + offset).initialize(from: source.baseAddress! + block * width, count: width)
                        }
                    }
                    offset += width
                }
                count = outer * outputWidth
            }
        }
        // The element kinds were checked above, so these conversions do not fail.
        if kinds.strings > 0 {
            slots[output] = Tensor(.string(try gather { try $0.strings() }), shape: shape)
        } else if kinds.int64s == inputs.count {
            slots[output] = Tensor(.int64(try gather { try $0.int64s() }), shape: shape)
        } else {
            slots[output] = Tensor(.float(try gather { try $0.floats() }), shape: shape)
        }
    }

    /// Elements of one block of `tensor` from `axis` on.
    private static func width(of tensor: Tensor, from axis: Int) -> Int {
        tensor.shape[axis...].reduce(1, *)
    }
}

/// `Reshape` (0 copies a dimension, -1 is inferred).
struct ReshapeKernel: Kernel {
    let input: Int
    let shapeInput: Int
    let output: Int
    /// The requested shape when it is a constant (as converters write it): read once, at load.
    let constantShape: [Int]?

    init(context: NodeContext) throws {
        input = try context.requireInput(0)
        shapeInput = try context.requireInput(1)
        output = context.outputSlots[0]
        constantShape = try context.constants[shapeInput].map { try $0.int64s().map(Int.init) }
    }

    func run(_ slots: inout [Tensor?]) throws {
        var tensor = try slots.value(input)
        let requested = try constantShape ?? slots.value(shapeInput).int64s().map(Int.init)
        if tensor.shape == requested {
            slots[output] = tensor
            return
        }
        var shape = requested
        var known = 1
        for (axis, size) in requested.enumerated() {
            if size == 0, axis < tensor.shape.count { shape[axis] = tensor.shape[axis] }
            if size != -1 { known *= shape[axis] }
        }
        if let unknown = shape.firstIndex(of: -1) {
            guard known > 0 else { throw ModelError.typeMismatch("Reshape: cannot infer a dimension") }
            shape[unknown] = tensor.count / known
        }
        guard shape.reduce(1, *) == tensor.count else {
            throw ModelError.typeMismatch("Reshape: \(tensor.shape) cannot become \(requested)")
        }
        tensor.shape = shape
        slots[output] = tensor
    }
}

/// `Flatten` to 2-D at an axis.
struct FlattenKernel: Kernel {
    let input: Int
    let output: Int
    let axis: Int

    init(context: NodeContext) throws {
        input = try context.requireInput(0)
        output = context.outputSlots[0]
        axis = Int(try context.int("axis", default: 1))
    }

    func run(_ slots: inout [Tensor?]) throws {
        var tensor = try slots.value(input)
        let axis = self.axis < 0 ? self.axis + tensor.shape.count : self.axis
        tensor.shape = [tensor.shape[..<axis].reduce(1, *), tensor.shape[axis...].reduce(1, *)]
        slots[output] = tensor
    }
}

/// `Gather` along an axis with integer indices (negative ones count from the end); skl2onnx
/// emits it to pick one column of a `[rows, 1]` input for a single-column transformer.
struct GatherKernel: Kernel {
    let input: Int
    let indicesInput: Int
    let output: Int
    let axis: Int

    init(context: NodeContext) throws {
        input = try context.requireInput(0)
        indicesInput = try context.requireInput(1)
        output = context.outputSlots[0]
        axis = Int(try context.int("axis", default: 0))
    }

    func run(_ slots: inout [Tensor?]) throws {
        let data = try slots.value(input)
        let indicesTensor = try slots.value(indicesInput)
        let rank = data.shape.count
        let axis = self.axis < 0 ? self.axis + rank : self.axis
        guard axis >= 0, axis < rank else { throw ModelError.typeMismatch("Gather: axis \(self.axis) out of range for rank \(rank)") }
        let size = data.shape[axis]
        let indices = try indicesTensor.int64s().map { index -> Int in
            let position = Int(index < 0 ? index + Int64(size) : index)
            guard position >= 0, position < size else { throw ModelError.typeMismatch("Gather: index \(index) out of range \(size)") }
            return position
        }
        let outer = data.shape[..<axis].reduce(1, *)
        let inner = data.shape[(axis + 1)...].reduce(1, *)
        func gather<T>(_ values: [T]) -> [T] {
            var result: [T] = []
            result.reserveCapacity(outer * indices.count * inner)
            for block in 0..<outer {
                for index in indices {
                    let start = (block * size + index) * inner
                    result.append(contentsOf: values[start..<(start + inner)])
                }
            }
            return result
        }
        let shape = Array(data.shape[..<axis]) + indicesTensor.shape + Array(data.shape[(axis + 1)...])
        switch data.storage {
        case .float(let values): slots[output] = Tensor(.float(gather(values)), shape: shape)
        case .double(let values): slots[output] = Tensor(.double(gather(values)), shape: shape)
        case .int64(let values): slots[output] = Tensor(.int64(gather(values)), shape: shape)
        case .string(let values): slots[output] = Tensor(.string(gather(values)), shape: shape)
        }
    }
}
