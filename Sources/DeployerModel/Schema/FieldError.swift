/// One problem with one field, in the shape of a Kubernetes `StatusCause`.
public struct FieldError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The Kubernetes cause type (`details.causes[].reason`).
    public enum Reason: String, Sendable, Hashable {
        case required = "FieldValueRequired"
        case invalid = "FieldValueInvalid"
        case typeInvalid = "FieldValueTypeInvalid"
        case notSupported = "FieldValueNotSupported"
        case forbidden = "FieldValueForbidden"
        case duplicate = "FieldValueDuplicate"
        case tooLong = "FieldValueTooLong"
        case notFound = "FieldValueNotFound"

        var label: String {
            switch self {
            case .required: "Required value"
            case .invalid, .typeInvalid: "Invalid value"
            case .notSupported: "Unsupported value"
            case .forbidden: "Forbidden"
            case .duplicate: "Duplicate value"
            case .tooLong: "Too long"
            case .notFound: "Not found"
            }
        }
    }

    /// Path of the field, such as `spec.static.nodes[1].url`.
    public let field: String
    public let reason: Reason
    /// The offending value, rendered as JSON, when it helps.
    public let value: String?
    public let detail: String

    public init(_ reason: Reason, field: String, value: JSONValue? = nil, detail: String = "") {
        self.reason = reason
        self.field = field
        self.value = value.map { Self.render($0) }
        self.detail = detail
    }

    /// A cause read back from a `Status`; its message becomes the detail (without the label).
    init(cause: JSONValue) {
        reason = Reason(rawValue: cause["reason"]?.stringValue ?? "") ?? .invalid
        field = cause["field"]?.stringValue ?? ""
        value = nil
        let message = cause["message"]?.stringValue ?? ""
        detail = message.hasPrefix(reason.label + ": ") ? String(message.dropFirst(reason.label.count + 2)) : message
    }

    /// The same error without the offending value (for fields holding secrets).
    public var redacted: FieldError { FieldError(reason, field: field, detail: detail) }

    /// The cause message as Kubernetes writes it: `Invalid value: "x": must be ...`.
    public var message: String {
        var text = reason.label
        if let value { text += ": \(value)" }
        if !detail.isEmpty { text += ": \(detail)" }
        return text
    }

    public var description: String { "\(field): \(message)" }

    private static func render(_ value: JSONValue) -> String {
        switch value {
        case .object: return "object"
        case .array: return "array"
        default:
            let text = value.jsonString
            return text.count > 80 ? String(text.prefix(77)) + "..." : text
        }
    }
}

/// A path inside a document, rendered the Kubernetes way (`spec.nodes[1].url`).
public struct FieldPath: Sendable, Hashable, CustomStringConvertible {
    private var rendered: String

    public init(_ root: String = "") { rendered = root }

    /// The path of member `name`.
    public func child(_ name: String) -> FieldPath {
        let isPlain = name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
        if !isPlain { return FieldPath(rendered + "[\(JSONValue.string(name).jsonString)]") }
        return FieldPath(rendered.isEmpty ? name : rendered + "." + name)
    }

    /// The path of element `index`.
    public func index(_ index: Int) -> FieldPath { FieldPath(rendered + "[\(index)]") }

    /// The path of map entry `key`.
    public func key(_ key: String) -> FieldPath { FieldPath(rendered + "[\(JSONValue.string(key).jsonString)]") }

    public var description: String { rendered }
}
