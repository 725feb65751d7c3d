/// `Identity`: passes its input through.
struct IdentityKernel: Kernel {
    let input: Int
    let output: Int

    init(context: NodeContext) {
        input = context.inputSlots[0]
        output = context.outputSlots[0]
    }

    func run(_ slots: inout [Tensor?]) throws { slots[output] = try slots.value(input) }
}

/// `Cast` to float, double, int64 or string.
struct CastKernel: Kernel {
    let input: Int
    let output: Int
    let target: ElementType

    init(context: NodeContext) throws {
        input = try context.requireInput(0)
        output = context.outputSlots[0]
        target = ElementType(onnx: Int32(try context.int("to")))
        if case .other(let code) = target { throw context.fail("cannot cast to element type \(code)") }
    }

    func run(_ slots: inout [Tensor?]) throws {
        let tensor = try slots.value(input)
        let storage: Tensor.Storage
        switch (target, tensor.storage) {
        case (.float, _): storage = .float(try tensor.floats())
        case (.double, .double(let values)): storage = .double(values)
        case (.double, _): storage = .double(try tensor.floats().map(Double.init))
        case (.int64, .string(let values)): storage = .int64(values.map { Int64($0) ?? 0 })
        case (.int64, _): storage = .int64(try tensor.int64s())
        case (.string, .string(let values)): storage = .string(values)
        case (.string, .int64(let values)): storage = .string(values.map { String($0) })
        case (.string, _): storage = .string(try tensor.floats().map { String($0) })
        case (.other, _): throw ModelError.typeMismatch("unsupported cast")
        }
        slots[output] = Tensor(storage, shape: tensor.shape)
    }
}

/// `Add`, `Sub`, `Mul`, `Div` on float tensors with multidirectional (numpy) broadcasting.
struct BinaryKernel: Kernel {
    enum Operation: Sendable {
        case add, subtract, multiply, divide

        func apply(_ a: Float, _ b: Float) -> Float {
            switch self {
            case .add: a + b
            case .subtract: a - b
            case .multiply: a * b
            case .divide: a / b
            }
        }
    }

    let left: Int
    let right: Int
    let output: Int
    let operation: Operation

    init(context: NodeContext, operation: Operation) throws {
        left = try context.requireInput(0)
        right = try context.requireInput(1)
        output = context.outputSlots[0]
        self.operation = operation
    }

    func run(_ slots: inout [Tensor?]) throws {
        let a = try slots.value(left)
        let b = try slots.value(right)
        let x = try a.floats()
        let y = try b.floats()
        if a.shape == b.shape {
            slots[output] = Tensor(.float(zip(x, y).map(operation.apply)), shape: a.shape)
            return
        }
        let shape = try Broadcast.shape(a.shape, b.shape)
        let leftIndex = Broadcast.indexer(from: a.shape, to: shape)
        let rightIndex = Broadcast.indexer(from: b.shape, to: shape)
        let count = shape.reduce(1, *)
        var result = [Float](repeating: 0, count: count)
        for position in 0..<count { result[position] = operation.apply(x[leftIndex(position)], y[rightIndex(position)]) }
        slots[output] = Tensor(.float(result), shape: shape)
    }
}

/// Numpy-style broadcasting helpers.
enum Broadcast {
    static func shape(_ a: [Int], _ b: [Int]) throws -> [Int] {
        let rank = max(a.count, b.count)
        let left = Array(repeating: 1, count: rank - a.count) + a
        let right = Array(repeating: 1, count: rank - b.count) + b
        return try zip(left, right).map { x, y in
            guard x == y || x == 1 || y == 1 else { throw ModelError.typeMismatch("shapes \(a) and \(b) cannot be broadcast") }
            return max(x, y)
        }
    }

    /// Maps a flat index of the broadcast shape to a flat index of `source`.
    static func indexer(from source: [Int], to target: [Int]) -> (Int) -> Int {
        let padded = Array(repeating: 1, count: target.count - source.count) + source
        var strides = [Int](repeating: 0, count: target.count)
        var step = 1
        for axis in stride(from: target.count - 1, through: 0, by: -1) {
            strides[axis] = padded[axis] == 1 ? 0 : step
            step *= padded[axis]
        }
        return { flat in
            var remaining = flat
            var index = 0
            for axis in stride(from: target.count - 1, through: 0, by: -1) {
                index += (remaining % target[axis]) * strides[axis]
                remaining /= target[axis]
            }
            return index
        }
    }
}
