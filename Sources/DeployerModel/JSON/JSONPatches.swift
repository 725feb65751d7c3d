/// JSON merge patch (RFC 7386): objects merge recursively, `null` deletes, everything else replaces.
public enum MergePatch {
    public static func apply(_ patch: JSONValue, to target: JSONValue) -> JSONValue {
        guard case .object(let patchMembers) = patch else { return patch }
        var result = target.objectValue ?? [:]
        for (key, value) in patchMembers {
            if value.isNull {
                result[key] = nil
            } else {
                result[key] = apply(value, to: result[key] ?? .null)
            }
        }
        return .object(result)
    }
}

/// JSON patch (RFC 6902): add, remove, replace, move, copy, test.
public enum JSONPatch {
    public static func apply(_ operations: JSONValue, to target: JSONValue) throws -> JSONValue {
        guard let list = operations.arrayValue else { throw APIError.badRequest("a JSON patch must be an array of operations") }
        var document = target
        for (position, operation) in list.enumerated() {
            guard let op = operation["op"]?.stringValue, let path = operation["path"]?.stringValue else {
                throw APIError.badRequest("JSON patch operation \(position) needs \"op\" and \"path\"")
            }
            let pointer = try parsePointer(path)
            switch op {
            case "add":
                document = try add(operation["value"] ?? .null, at: pointer, in: document, operation: position)
            case "remove":
                document = try remove(at: pointer, in: document, operation: position).document
            case "replace":
                document = try remove(at: pointer, in: document, operation: position).document
                document = try add(operation["value"] ?? .null, at: pointer, in: document, operation: position)
            case "move", "copy":
                guard let from = operation["from"]?.stringValue else {
                    throw APIError.badRequest("JSON patch operation \(position) (\(op)) needs \"from\"")
                }
                let source = try parsePointer(from)
                guard let value = try value(at: source, in: document) else {
                    throw APIError.badRequest("JSON patch operation \(position): \"from\" path \(from) does not exist")
                }
                if op == "move" { document = try remove(at: source, in: document, operation: position).document }
                document = try add(value, at: pointer, in: document, operation: position)
            case "test":
                let actual = try value(at: pointer, in: document)
                if actual != (operation["value"] ?? .null) {
                    throw APIError(
                        code: 422, reason: "Invalid", message: "the server rejected our request due to an error in our request: test operation failed at \(path)")
                }
            default:
                throw APIError.badRequest("JSON patch operation \(position): unknown op \"\(op)\"")
            }
        }
        return document
    }

    static func parsePointer(_ path: String) throws -> [String] {
        if path.isEmpty { return [] }
        guard path.hasPrefix("/") else { throw APIError.badRequest("invalid JSON pointer \"\(path)\"") }
        return path.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    private static func value(at pointer: [String], in document: JSONValue) throws -> JSONValue? {
        var current: JSONValue? = document
        for token in pointer {
            switch current {
            case .object(let members): current = members[token]
            case .array(let elements): current = Int(token).flatMap { elements.indices.contains($0) ? elements[$0] : nil }
            default: return nil
            }
        }
        return current
    }

    private static func add(_ value: JSONValue, at pointer: [String], in document: JSONValue, operation: Int) throws -> JSONValue {
        guard let token = pointer.first else { return value }
        let rest = Array(pointer.dropFirst())
        switch document {
        case .object(var members):
            if rest.isEmpty {
                members[token] = value
            } else {
                guard let child = members[token] else {
                    throw APIError.badRequest("JSON patch operation \(operation): path does not exist at \"\(token)\"")
                }
                members[token] = try add(value, at: rest, in: child, operation: operation)
            }
            return .object(members)
        case .array(var elements):
            if rest.isEmpty {
                if token == "-" {
                    elements.append(value)
                } else if let index = Int(token), index >= 0, index <= elements.count {
                    elements.insert(value, at: index)
                } else {
                    throw APIError.badRequest("JSON patch operation \(operation): invalid array index \"\(token)\"")
                }
            } else {
                guard let index = Int(token), elements.indices.contains(index) else {
                    throw APIError.badRequest("JSON patch operation \(operation): invalid array index \"\(token)\"")
                }
                elements[index] = try add(value, at: rest, in: elements[index], operation: operation)
            }
            return .array(elements)
        default:
            throw APIError.badRequest("JSON patch operation \(operation): cannot add below a scalar")
        }
    }

    private static func remove(at pointer: [String], in document: JSONValue, operation: Int) throws -> (document: JSONValue, removed: JSONValue) {
        guard let token = pointer.first else { throw APIError.badRequest("JSON patch operation \(operation): cannot remove the root") }
        let rest = Array(pointer.dropFirst())
        switch document {
        case .object(var members):
            guard let child = members[token] else {
                throw APIError.badRequest("JSON patch operation \(operation): path does not exist at \"\(token)\"")
            }
            if rest.isEmpty {
                members[token] = nil
                return (.object(members), child)
            }
            let (updated, removed) = try remove(at: rest, in: child, operation: operation)
            members[token] = updated
            return (.object(members), removed)
        case .array(var elements):
            guard let index = Int(token), elements.indices.contains(index) else {
                throw APIError.badRequest("JSON patch operation \(operation): invalid array index \"\(token)\"")
            }
            if rest.isEmpty {
                let removed = elements.remove(at: index)
                return (.array(elements), removed)
            }
            let (updated, removed) = try remove(at: rest, in: elements[index], operation: operation)
            elements[index] = updated
            return (.array(elements), removed)
        default:
            throw APIError.badRequest("JSON patch operation \(operation): path does not exist")
        }
    }
}

import Foundation
