/// `ZipMap`: attaches class labels to a probability matrix (see `Tensor.columnLabels`).
struct ZipMapKernel: Kernel {
    let input: Int
    let output: Int
    let labels: [String]

    init(context: NodeContext) throws {
        input = try context.requireInput(0)
        output = context.outputSlots[0]
        let strings = try context.strings("classlabels_strings", default: [])
        labels = strings.isEmpty ? try context.ints("classlabels_int64s").map { String($0) } : strings
    }

    func run(_ slots: inout [Tensor?]) throws {
        let tensor = try slots.value(input)
        guard tensor.columns == labels.count else {
            throw ModelError.typeMismatch("ZipMap has \(labels.count) labels for \(tensor.columns) columns")
        }
        slots[output] = Tensor(.float(try tensor.floats()), shape: [tensor.rows, tensor.columns], columnLabels: labels)
    }
}

/// `ArrayFeatureExtractor`: selects columns (last axis) by index.
struct ArrayFeatureExtractorKernel: Kernel {
    let input: Int
    let indices: Int
    let output: Int

    init(context: NodeContext) throws {
        input = try context.requireInput(0)
        indices = try context.requireInput(1)
        output = context.outputSlots[0]
    }

    func run(_ slots: inout [Tensor?]) throws {
        let tensor = try slots.value(input)
        let selected = try slots.value(indices).int64s().map(Int.init)
        let width = tensor.shape.last ?? tensor.count
        guard selected.allSatisfy({ $0 >= 0 && $0 < width }) else {
            throw ModelError.typeMismatch("ArrayFeatureExtractor: an index is outside 0..<\(width)")
        }
        let outer = tensor.count / max(width, 1)
        func pick<T>(_ values: [T]) -> [T] {
            var result: [T] = []
            result.reserveCapacity(outer * selected.count)
            for row in 0..<outer { for index in selected { result.append(values[row * width + index]) } }
            return result
        }
        var shape = tensor.shape.isEmpty ? [1] : tensor.shape
        shape[shape.count - 1] = selected.count
        switch tensor.storage {
        case .float(let values): slots[output] = Tensor(.float(pick(values)), shape: shape)
        case .double(let values): slots[output] = Tensor(.double(pick(values)), shape: shape)
        case .int64(let values): slots[output] = Tensor(.int64(pick(values)), shape: shape)
        case .string(let values): slots[output] = Tensor(.string(pick(values)), shape: shape)
        }
    }
}

/// `Binarizer`: 1 above the threshold, else 0.
struct BinarizerKernel: Kernel {
    let input: Int
    let output: Int
    let threshold: Float

    init(context: NodeContext) throws {
        input = try context.requireInput(0)
        output = context.outputSlots[0]
        threshold = try context.float("threshold", default: 0)
    }

    func run(_ slots: inout [Tensor?]) throws {
        let tensor = try slots.value(input)
        slots[output] = Tensor(.float(try tensor.floats().map { $0 > threshold ? 1 : 0 }), shape: tensor.shape)
    }
}

/// `FeatureVectorizer`: concatenates inputs by rows, each cut or zero-padded to its declared width.
struct FeatureVectorizerKernel: Kernel {
    let inputs: [Int]
    let output: Int
    let widths: [Int]

    init(context: NodeContext) throws {
        inputs = context.inputSlots.filter { $0 >= 0 }
        output = context.outputSlots[0]
        widths = try context.ints("inputdimensions").map(Int.init)
        guard widths.count == inputs.count else { throw context.fail("inputdimensions has \(widths.count) entries for \(inputs.count) inputs") }
    }

    func run(_ slots: inout [Tensor?]) throws {
        let tensors = try inputs.map { try slots.value($0) }
        let rows = tensors.first?.rows ?? 0
        let total = widths.reduce(0, +)
        var result = [Float](repeating: 0, count: rows * total)
        var offset = 0
        for (tensor, width) in zip(tensors, widths) {
            let values = try tensor.floats()
            let columns = tensor.columns
            for row in 0..<rows {
                for column in 0..<min(width, columns) { result[row * total + offset + column] = values[row * columns + column] }
            }
            offset += width
        }
        slots[output] = Tensor(.float(result), shape: [rows, total])
    }
}

/// `LabelEncoder` (opset 1 `classes_strings`, opset 2 keys and values of strings, ints or floats).
struct LabelEncoderKernel: Kernel {
    enum Table: Sendable {
        case stringToString([String: String], String)
        case stringToInt([String: Int64], Int64)
        case stringToFloat([String: Float], Float)
        case intToString([Int64: String], String)
        case intToInt([Int64: Int64], Int64)
        case intToFloat([Int64: Float], Float)
        case floatToString([Float: String], String)
        case floatToInt([Float: Int64], Int64)
    }

    let input: Int
    let output: Int
    let table: Table

    init(context: NodeContext) throws {
        input = try context.requireInput(0)
        output = context.outputSlots[0]
        let defaultString = try context.string("default_string", default: "_Unused")
        let defaultInt = try context.int("default_int64", default: -1)
        let defaultFloat = try context.float("default_float", default: -0.0)
        let classes = try context.strings("classes_strings", default: [])
        let keysStrings = try context.strings("keys_strings", default: [])
        let keysInts = try context.ints("keys_int64s", default: [])
        let keysFloats = try context.floats("keys_floats", default: [])
        let valuesStrings = try context.strings("values_strings", default: [])
        let valuesInts = try context.ints("values_int64s", default: [])
        let valuesFloats = try context.floats("values_floats", default: [])
        func map<K: Hashable, V>(_ keys: [K], _ values: [V]) throws -> [K: V] {
            guard keys.count == values.count else { throw context.fail("keys and values have different lengths") }
            return Dictionary(zip(keys, values), uniquingKeysWith: { first, _ in first })
        }
        if !classes.isEmpty {
            // Opset 1: strings to their index, or indices to strings.
            table = .stringToInt(Dictionary(classes.enumerated().map { ($0.element, Int64($0.offset)) }, uniquingKeysWith: { a, _ in a }), defaultInt)
        } else if !keysStrings.isEmpty, !valuesStrings.isEmpty {
            table = .stringToString(try map(keysStrings, valuesStrings), defaultString)
        } else if !keysStrings.isEmpty, !valuesInts.isEmpty {
            table = .stringToInt(try map(keysStrings, valuesInts), defaultInt)
        } else if !keysStrings.isEmpty, !valuesFloats.isEmpty {
            table = .stringToFloat(try map(keysStrings, valuesFloats), defaultFloat)
        } else if !keysInts.isEmpty, !valuesStrings.isEmpty {
            table = .intToString(try map(keysInts, valuesStrings), defaultString)
        } else if !keysInts.isEmpty, !valuesInts.isEmpty {
            table = .intToInt(try map(keysInts, valuesInts), defaultInt)
        } else if !keysInts.isEmpty, !valuesFloats.isEmpty {
            table = .intToFloat(try map(keysInts, valuesFloats), defaultFloat)
        } else if !keysFloats.isEmpty, !valuesStrings.isEmpty {
            table = .floatToString(try map(keysFloats, valuesStrings), defaultString)
        } else if !keysFloats.isEmpty, !valuesInts.isEmpty {
            table = .floatToInt(try map(keysFloats, valuesInts), defaultInt)
        } else {
            throw context.fail("needs classes_strings or keys_* with values_*")
        }
    }

    func run(_ slots: inout [Tensor?]) throws {
        let tensor = try slots.value(input)
        let storage: Tensor.Storage
        switch table {
        case .stringToString(let map, let fallback): storage = .string(try tensor.strings().map { map[$0] ?? fallback })
        case .stringToInt(let map, let fallback): storage = .int64(try tensor.strings().map { map[$0] ?? fallback })
        case .stringToFloat(let map, let fallback): storage = .float(try tensor.strings().map { map[$0] ?? fallback })
        case .intToString(let map, let fallback): storage = .string(try tensor.int64s().map { map[$0] ?? fallback })
        case .intToInt(let map, let fallback): storage = .int64(try tensor.int64s().map { map[$0] ?? fallback })
        case .intToFloat(let map, let fallback): storage = .float(try tensor.int64s().map { map[$0] ?? fallback })
        case .floatToString(let map, let fallback): storage = .string(try tensor.floats().map { map[$0] ?? fallback })
        case .floatToInt(let map, let fallback): storage = .int64(try tensor.floats().map { map[$0] ?? fallback })
        }
        slots[output] = Tensor(storage, shape: tensor.shape)
    }
}
