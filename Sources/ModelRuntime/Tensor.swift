/// A dense tensor: elements in row-major order and a shape.
public struct Tensor: Sendable, Equatable {
    /// The elements, by element type.
    public enum Storage: Sendable, Equatable {
        case float([Float])
        case double([Double])
        case int64([Int64])
        case string([String])
    }

    public var storage: Storage
    public var shape: [Int]
    /// Class names of the columns, set by `ZipMap` (whose ONNX output, a sequence of maps from
    /// class to probability, is held as this labeled matrix).
    public var columnLabels: [String]?

    public init(_ storage: Storage, shape: [Int], columnLabels: [String]? = nil) {
        self.storage = storage
        self.shape = shape
        self.columnLabels = columnLabels
    }

    /// Number of elements.
    public var count: Int {
        switch storage {
        case .float(let values): values.count
        case .double(let values): values.count
        case .int64(let values): values.count
        case .string(let values): values.count
        }
    }

    /// Rows of a 2-D view: the first dimension (1 for scalars and vectors of one row).
    public var rows: Int { shape.count >= 2 ? shape[0] : 1 }

    /// Columns of a 2-D view: the product of all dimensions after the first.
    public var columns: Int { shape.count >= 2 ? shape.dropFirst().reduce(1, *) : count }

    /// The elements as 32-bit floats (numeric tensors only).
    public func floats() throws -> [Float] {
        switch storage {
        case .float(let values): return values
        case .double(let values): return values.map(Float.init)
        case .int64(let values): return values.map(Float.init)
        case .string: throw ModelError.typeMismatch("a numeric tensor was expected, got strings")
        }
    }

    /// The elements as strings (string tensors only).
    public func strings() throws -> [String] {
        guard case .string(let values) = storage else { throw ModelError.typeMismatch("a string tensor was expected") }
        return values
    }

    /// The elements as 64-bit integers (integer tensors only).
    public func int64s() throws -> [Int64] {
        switch storage {
        case .int64(let values): return values
        case .float(let values): return values.map { Int64($0) }
        case .double(let values): return values.map { Int64($0) }
        case .string: throw ModelError.typeMismatch("an integer tensor was expected, got strings")
        }
    }
}
