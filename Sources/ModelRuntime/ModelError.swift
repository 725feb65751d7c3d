/// Why a model cannot be loaded or evaluated. Load errors name the node and operator.
public enum ModelError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file is not a valid ONNX model.
    case invalidModel(String)
    /// An operator the evaluator does not implement; refused at load, never at query time.
    case unsupportedOperator(domain: String, opType: String, node: String)
    /// A required attribute is missing or has the wrong type.
    case invalidAttribute(node: String, attribute: String, reason: String)
    /// An input is missing or has the wrong type or shape.
    case typeMismatch(String)
    case missingInput(String)
    /// The model's inputs or outputs cannot be mapped with the endpoint's declarations.
    case mapping(String)

    public var description: String {
        switch self {
        case .invalidModel(let reason): "invalid ONNX model: \(reason)"
        case .unsupportedOperator(let domain, let opType, let node):
            "unsupported operator \(domain.isEmpty ? "ai.onnx" : domain):\(opType) (node \"\(node)\")"
        case .invalidAttribute(let node, let attribute, let reason): "node \"\(node)\": attribute \(attribute) \(reason)"
        case .typeMismatch(let reason): reason
        case .missingInput(let name): "missing input \"\(name)\""
        case .mapping(let reason): reason
        }
    }
}
