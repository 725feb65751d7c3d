import Foundation

/// `Sigmoid`, elementwise.
struct SigmoidKernel: Kernel {
    let input: Int
    let output: Int

    init(context: NodeContext) throws {
        input = try context.requireInput(0)
        output = context.outputSlots[0]
    }

    func run(_ slots: inout [Tensor?]) throws {
        let tensor = try slots.value(input)
        slots[output] = Tensor(.float(try tensor.floats().map { 1 / (1 + exp(-$0)) }), shape: tensor.shape)
    }
}

/// `Softmax` along an axis (the last by default, opset 13 and later).
struct SoftmaxKernel: Kernel {
    let input: Int
    let output: Int
    let axis: Int

    init(context: NodeContext) throws {
        input = try context.requireInput(0)
        output = context.outputSlots[0]
        axis = Int(try context.int("axis", default: -1))
    }

    func run(_ slots: inout [Tensor?]) throws {
        let tensor = try slots.value(input)
        var values = try tensor.floats()
        let axis = self.axis < 0 ? self.axis + tensor.shape.count : self.axis
        guard axis == tensor.shape.count - 1 else { throw ModelError.typeMismatch("Softmax is supported on the last axis only") }
        let width = tensor.shape.last ?? values.count
        for start in stride(from: 0, to: values.count, by: max(width, 1)) {
            var slice = values[start..<(start + width)]
            PostTransform.softmax(&slice)
            values.replaceSubrange(start..<(start + width), with: slice)
        }
        slots[output] = Tensor(.float(values), shape: tensor.shape)
    }
}

/// `ArgMax` along an axis of a 2-D tensor.
struct ArgMaxKernel: Kernel {
    let input: Int
    let output: Int
    let axis: Int
    let keepDimensions: Bool
    let selectLast: Bool

    init(context: NodeContext) throws {
        input = try context.requireInput(0)
        output = context.outputSlots[0]
        axis = Int(try context.int("axis", default: 0))
        keepDimensions = try context.int("keepdims", default: 1) == 1
        selectLast = try context.int("select_last_index", default: 0) == 1
    }

    func run(_ slots: inout [Tensor?]) throws {
        let tensor = try slots.value(input)
        let values = try tensor.floats()
        guard tensor.shape.count == 2 else { throw ModelError.typeMismatch("ArgMax is supported on 2-D tensors") }
        let (rows, columns) = (tensor.shape[0], tensor.shape[1])
        let alongColumns = (axis < 0 ? axis + 2 : axis) == 1
        let (outer, inner) = alongColumns ? (rows, columns) : (columns, rows)
        var result: [Int64] = []
        for block in 0..<outer {
            var best = 0
            for candidate in 1..<max(inner, 1) {
                let value = alongColumns ? values[block * columns + candidate] : values[candidate * columns + block]
                let current = alongColumns ? values[block * columns + best] : values[best * columns + block]
                if value > current || (selectLast && value == current) { best = candidate }
            }
            result.append(Int64(best))
        }
        let shape = alongColumns ? (keepDimensions ? [rows, 1] : [rows]) : (keepDimensions ? [1, columns] : [columns])
        slots[output] = Tensor(.int64(result), shape: shape)
    }
}

/// `MatMul` of 2-D float tensors (a 1-D right side is a column vector).
struct MatMulKernel: Kernel {
    let left: Int
    let right: Int
    let output: Int

    init(context: NodeContext) throws {
        left = try context.requireInput(0)
        right = try context.requireInput(1)
        output = context.outputSlots[0]
    }

    func run(_ slots: inout [Tensor?]) throws {
        let a = try slots.value(left)
        let b = try slots.value(right)
        let bShape = b.shape.count == 1 ? [b.shape[0], 1] : b.shape
        guard a.shape.count == 2, bShape.count == 2, a.shape[1] == bShape[0] else {
            throw ModelError.typeMismatch("MatMul: shapes \(a.shape) and \(b.shape) do not multiply")
        }
        let product = matrixProduct(try a.floats(), try b.floats(), rows: a.shape[0], inner: a.shape[1], columns: bShape[1])
        slots[output] = Tensor(.float(product), shape: b.shape.count == 1 ? [a.shape[0]] : [a.shape[0], bShape[1]])
    }
}

/// `Gemm`: `alpha · A' · B' + beta · C` with optional transposes and a broadcast C.
struct GemmKernel: Kernel {
    let a: Int
    let b: Int
    let c: Int?
    let output: Int
    let alpha: Float
    let beta: Float
    let transposeA: Bool
    let transposeB: Bool

    init(context: NodeContext) throws {
        a = try context.requireInput(0)
        b = try context.requireInput(1)
        c = context.input(2)
        output = context.outputSlots[0]
        alpha = try context.float("alpha", default: 1)
        beta = try context.float("beta", default: 1)
        transposeA = try context.int("transA", default: 0) == 1
        transposeB = try context.int("transB", default: 0) == 1
    }

    func run(_ slots: inout [Tensor?]) throws {
        var left = try slots.value(a)
        var right = try slots.value(b)
        if transposeA { left = try transposed(left) }
        if transposeB { right = try transposed(right) }
        guard left.shape.count == 2, right.shape.count == 2, left.shape[1] == right.shape[0] else {
            throw ModelError.typeMismatch("Gemm: shapes \(left.shape) and \(right.shape) do not multiply")
        }
        let (rows, columns) = (left.shape[0], right.shape[1])
        var result = matrixProduct(try left.floats(), try right.floats(), rows: rows, inner: left.shape[1], columns: columns).map { $0 * alpha }
        if let c {
            let bias = try slots.value(c)
            let values = try bias.floats()
            let index = Broadcast.indexer(from: bias.shape, to: [rows, columns])
            for position in result.indices { result[position] += beta * values[index(position)] }
        }
        slots[output] = Tensor(.float(result), shape: [rows, columns])
    }

    private func transposed(_ tensor: Tensor) throws -> Tensor {
        guard tensor.shape.count == 2 else { throw ModelError.typeMismatch("Gemm inputs must be 2-D") }
        let values = try tensor.floats()
        let (rows, columns) = (tensor.shape[0], tensor.shape[1])
        var result = [Float](repeating: 0, count: values.count)
        for row in 0..<rows { for column in 0..<columns { result[column * rows + row] = values[row * columns + column] } }
        return Tensor(.float(result), shape: [columns, rows])
    }
}

/// Row-major matrix product in float32.
func matrixProduct(_ a: [Float], _ b: [Float], rows: Int, inner: Int, columns: Int) -> [Float] {
    var result = [Float](repeating: 0, count: rows * columns)
    for row in 0..<rows {
        for k in 0..<inner {
            let factor = a[row * inner + k]
            for column in 0..<columns { result[row * columns + column] += factor * b[k * columns + column] }
        }
    }
    return result
}
