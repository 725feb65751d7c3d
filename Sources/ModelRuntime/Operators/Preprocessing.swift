/// `Scaler`: `(x - offset) * scale`, per column or for all.
struct ScalerKernel: Kernel {
    let input: Int
    let output: Int
    let offset: [Float]
    let scale: [Float]

    init(context: NodeContext) throws {
        input = try context.requireInput(0)
        output = context.outputSlots[0]
        offset = try context.floats("offset", default: [0])
        scale = try context.floats("scale", default: [1])
    }

    func run(_ slots: inout [Tensor?]) throws {
        let tensor = try slots.value(input)
        var values = try tensor.floats()
        let columns = tensor.columns
        for index in values.indices {
            let column = index % columns
            let shift = offset.count == 1 ? offset[0] : offset[column]
            let factor = scale.count == 1 ? scale[0] : scale[column]
            values[index] = (values[index] - shift) * factor
        }
        slots[output] = Tensor(.float(values), shape: tensor.shape)
    }
}

/// `Imputer`: replaces a marker value (NaN by default in converted models) per column.
struct ImputerKernel: Kernel {
    let input: Int
    let output: Int
    let floatValues: [Float]
    let replacedFloat: Float
    let intValues: [Int64]
    let replacedInt: Int64

    init(context: NodeContext) throws {
        input = try context.requireInput(0)
        output = context.outputSlots[0]
        floatValues = try context.floats("imputed_value_floats", default: [])
        replacedFloat = try context.float("replaced_value_float", default: 0)
        intValues = try context.ints("imputed_value_int64s", default: [])
        replacedInt = try context.int("replaced_value_int64", default: 0)
        if floatValues.isEmpty, intValues.isEmpty { throw context.fail("needs imputed_value_floats or imputed_value_int64s") }
    }

    func run(_ slots: inout [Tensor?]) throws {
        let tensor = try slots.value(input)
        let columns = tensor.columns
        if case .int64(var values) = tensor.storage, !intValues.isEmpty {
            for index in values.indices where values[index] == replacedInt {
                values[index] = intValues.count == 1 ? intValues[0] : intValues[index % columns]
            }
            slots[output] = Tensor(.int64(values), shape: tensor.shape)
            return
        }
        var values = try tensor.floats()
        let replacesNaN = replacedFloat.isNaN
        for index in values.indices where replacesNaN ? values[index].isNaN : values[index] == replacedFloat {
            values[index] = floatValues.count == 1 ? floatValues[0] : floatValues[index % columns]
        }
        slots[output] = Tensor(.float(values), shape: tensor.shape)
    }
}

/// `OneHotEncoder`: one column per category; unknown values give zeros (`zeros=1`) or an error.
struct OneHotEncoderKernel: Kernel {
    let input: Int
    let output: Int
    let stringCategories: [String: Int]
    let intCategories: [Int64: Int]
    let width: Int
    let unknownIsZeros: Bool

    init(context: NodeContext) throws {
        input = try context.requireInput(0)
        output = context.outputSlots[0]
        let strings = try context.strings("cats_strings", default: [])
        let ints = try context.ints("cats_int64s", default: [])
        stringCategories = Dictionary(strings.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { first, _ in first })
        intCategories = Dictionary(ints.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { first, _ in first })
        width = max(strings.count, ints.count)
        unknownIsZeros = try context.int("zeros", default: 1) == 1
        if width == 0 { throw context.fail("needs cats_strings or cats_int64s") }
    }

    func run(_ slots: inout [Tensor?]) throws {
        let tensor = try slots.value(input)
        var result = [Float](repeating: 0, count: tensor.count * width)
        func mark(_ row: Int, _ position: Int?) throws {
            if let position {
                result[row * width + position] = 1
            } else if !unknownIsZeros {
                throw ModelError.typeMismatch("OneHotEncoder: a value is not one of the known categories")
            }
        }
        if case .string(let values) = tensor.storage {
            for (row, value) in values.enumerated() { try mark(row, stringCategories[value]) }
        } else {
            for (row, value) in try tensor.int64s().enumerated() { try mark(row, intCategories[value]) }
        }
        var shape = tensor.shape
        shape.append(width)
        slots[output] = Tensor(.float(result), shape: shape)
    }
}

/// `Normalizer`: rows divided by their MAX, L1 or L2 norm.
struct NormalizerKernel: Kernel {
    enum Norm: String, Sendable { case max = "MAX", l1 = "L1", l2 = "L2" }

    let input: Int
    let output: Int
    let norm: Norm

    init(context: NodeContext) throws {
        input = try context.requireInput(0)
        output = context.outputSlots[0]
        let text = try context.string("norm", default: "MAX")
        guard let norm = Norm(rawValue: text) else { throw context.fail("unknown norm \(text)") }
        self.norm = norm
    }

    func run(_ slots: inout [Tensor?]) throws {
        let tensor = try slots.value(input)
        var values = try tensor.floats()
        let columns = tensor.columns
        for row in 0..<(values.count / max(columns, 1)) {
            let range = (row * columns)..<((row + 1) * columns)
            let divisor: Float
            switch norm {
            case .max: divisor = values[range].max() ?? 1
            case .l1: divisor = values[range].reduce(0) { $0 + abs($1) }
            case .l2: divisor = values[range].reduce(0) { $0 + $1 * $1 }.squareRoot()
            }
            for index in range { values[index] /= divisor }
        }
        slots[output] = Tensor(.float(values), shape: tensor.shape)
    }
}
