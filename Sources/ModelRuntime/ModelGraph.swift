import Foundation
import SwiftProtobuf

/// The element types of model inputs and outputs that the evaluator handles.
public enum ElementType: Sendable, Equatable {
    case float, double, int64, string, other(Int32)

    init(onnx code: Int32) {
        switch code {
        case 1: self = .float
        case 11: self = .double
        case 6, 7, 9: self = .int64
        case 8: self = .string
        default: self = .other(code)
        }
    }
}

/// A named graph input or output with its element type and shape (nil for symbolic dimensions).
public struct ValueInfo: Sendable, Equatable {
    public let name: String
    public let elementType: ElementType
    public let shape: [Int?]
}

/// A node attribute.
enum Attribute: Sendable {
    case float(Float), int(Int64), string(String), tensor(Tensor)
    case floats([Float]), ints([Int64]), strings([String])
}

/// One node of the graph.
struct GraphNode: Sendable {
    let name: String
    let domain: String
    let opType: String
    let inputs: [String]
    let outputs: [String]
    let attributes: [String: Attribute]
}

/// A model read from ONNX protobuf bytes, in our own form.
public struct ModelGraph: Sendable {
    let nodes: [GraphNode]
    let initializers: [String: Tensor]
    public let inputs: [ValueInfo]
    public let outputs: [ValueInfo]

    /// Parses an ONNX model.
    public init(onnx bytes: Data) throws {
        let model: Onnx_ModelProto
        do {
            model = try Onnx_ModelProto(serializedBytes: bytes)
        } catch {
            throw ModelError.invalidModel("not an ONNX protobuf: \(error)")
        }
        guard model.hasGraph else { throw ModelError.invalidModel("the model has no graph") }
        let graph = model.graph
        var initializers: [String: Tensor] = [:]
        for tensor in graph.initializer { initializers[tensor.name] = try Tensor(onnx: tensor) }
        self.initializers = initializers
        nodes = try graph.node.enumerated().map { position, node in
            let name = node.name.isEmpty ? "\(node.opType)_\(position)" : node.name
            var attributes: [String: Attribute] = [:]
            for attribute in node.attribute { attributes[attribute.name] = try Attribute(onnx: attribute, node: name) }
            return GraphNode(
                name: name, domain: node.domain == "ai.onnx" ? "" : node.domain, opType: node.opType, inputs: node.input,
                outputs: node.output, attributes: attributes)
        }
        inputs = graph.input.filter { initializers[$0.name] == nil }.map(ValueInfo.init(onnx:))
        outputs = graph.output.map(ValueInfo.init(onnx:))
    }
}

extension ValueInfo {
    init(onnx value: Onnx_ValueInfoProto) {
        let tensor = value.type.tensorType
        name = value.name
        elementType = ElementType(onnx: tensor.elemType)
        shape = tensor.shape.dim.map { dimension in
            if case .dimValue(let size)? = dimension.value { return Int(size) }
            return nil
        }
    }
}

extension Attribute {
    init(onnx attribute: Onnx_AttributeProto, node: String) throws {
        switch attribute.type {
        case .float: self = .float(attribute.f)
        case .int: self = .int(attribute.i)
        case .string: self = .string(String(decoding: attribute.s, as: UTF8.self))
        case .tensor: self = .tensor(try Tensor(onnx: attribute.t))
        case .floats: self = .floats(attribute.floats)
        case .ints: self = .ints(attribute.ints)
        case .strings: self = .strings(attribute.strings.map { String(decoding: $0, as: UTF8.self) })
        default:
            throw ModelError.invalidAttribute(node: node, attribute: attribute.name, reason: "has an unsupported type \(attribute.type)")
        }
    }
}

extension Tensor {
    /// Reads a `TensorProto` (typed fields or little-endian `raw_data`).
    init(onnx proto: Onnx_TensorProto) throws {
        let shape = proto.dims.map { Int($0) }
        let raw = proto.rawData
        func fromRaw<T>(_ type: T.Type) -> [T] {
            raw.withUnsafeBytes { buffer in Array(buffer.bindMemory(to: T.self)) }
        }
        switch proto.dataType {
        case 1: self.init(.float(raw.isEmpty ? proto.floatData : fromRaw(Float.self)), shape: shape)
        case 11: self.init(.double(raw.isEmpty ? proto.doubleData : fromRaw(Double.self)), shape: shape)
        case 7: self.init(.int64(raw.isEmpty ? proto.int64Data : fromRaw(Int64.self)), shape: shape)
        case 6, 9:
            let values = raw.isEmpty ? proto.int32Data.map(Int64.init) : (proto.dataType == 9 ? fromRaw(UInt8.self).map(Int64.init) : fromRaw(Int32.self).map(Int64.init))
            self.init(.int64(values), shape: shape)
        case 8: self.init(.string(proto.stringData.map { String(decoding: $0, as: UTF8.self) }), shape: shape)
        default: throw ModelError.invalidModel("tensor \"\(proto.name)\" has unsupported element type \(proto.dataType)")
        }
    }
}
