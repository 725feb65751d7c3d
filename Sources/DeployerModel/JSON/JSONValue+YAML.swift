import Foundation
import Yams

/// An error in YAML text, naming the document.
public struct YAMLDocumentError: Error, CustomStringConvertible, Sendable {
    public let document: Int
    public let reason: String
    public var description: String { "YAML document \(document): \(reason)" }
}

extension JSONValue {
    /// Parses every document of a multi-document YAML stream; empty documents are skipped.
    public static func parseYAMLDocuments(_ text: String) throws -> [JSONValue] {
        var documents: [JSONValue] = []
        var position = 0
        do {
            for node in try Yams.compose_all(yaml: text) {
                position += 1
                let value = try JSONValue(yamlNode: node, document: position)
                if !value.isNull { documents.append(value) }
            }
        } catch let error as YAMLDocumentError {
            throw error
        } catch {
            throw YAMLDocumentError(document: position + 1, reason: "\(error)")
        }
        return documents
    }

    init(yamlNode node: Node, document: Int) throws {
        switch node {
        case .scalar(let scalar):
            switch node.tag.rawValue {
            case Tag.Name.null.rawValue: self = .null
            case Tag.Name.bool.rawValue: self = .bool(node.bool ?? false)
            case Tag.Name.int.rawValue:
                if let number = Int64(scalar.string.replacingOccurrences(of: "_", with: "")) {
                    self = .int(number)
                } else if let number = node.int {
                    self = .int(Int64(number))
                } else {
                    self = .string(scalar.string)
                }
            case Tag.Name.float.rawValue: self = .double(node.float ?? .nan)
            default: self = .string(scalar.string)
            }
        case .mapping(let mapping):
            var members: [String: JSONValue] = [:]
            for (key, value) in mapping {
                guard case .scalar(let keyScalar) = key else {
                    throw YAMLDocumentError(document: document, reason: "a mapping key is not a scalar")
                }
                if members[keyScalar.string] != nil {
                    throw YAMLDocumentError(document: document, reason: "duplicate key \"\(keyScalar.string)\"")
                }
                members[keyScalar.string] = try JSONValue(yamlNode: value, document: document)
            }
            self = .object(members)
        case .sequence(let sequence):
            self = .array(try sequence.map { try JSONValue(yamlNode: $0, document: document) })
        case .alias:
            throw YAMLDocumentError(document: document, reason: "YAML aliases are not supported")
        }
    }

    /// YAML text for this value, members in presentation order.
    public func yamlString() -> String {
        (try? Yams.serialize(node: yamlNode(), width: -1)) ?? jsonString
    }

    func yamlNode() -> Node {
        switch self {
        case .null: return Node("null", Tag(.null))
        case .bool(let flag): return Node(flag ? "true" : "false", Tag(.bool))
        case .int(let number): return Node(String(number), Tag(.int))
        case .double: return Node(String(decoding: serialized(), as: UTF8.self), Tag(.float))
        case .string(let text):
            if text.contains("\n") { return Node(text, Tag(.str), .literal) }
            // A plain scalar that the resolver would read as a bool, number, null or timestamp
            // must be quoted to stay a string.
            let wouldResolve = Resolver.default.resolveTag(of: Node(text)).rawValue
            let style: Node.Scalar.Style = wouldResolve == Tag.Name.str.rawValue ? .any : .doubleQuoted
            return Node(text, Tag(.str), style)
        case .array(let elements): return Node(elements.map { $0.yamlNode() }, Tag(.seq))
        case .object(let members):
            let pairs = Self.orderedKeys(members).map { key in (Node(key, Tag(.str)), members[key]!.yamlNode()) }
            return Node(pairs, Tag(.map))
        }
    }
}
