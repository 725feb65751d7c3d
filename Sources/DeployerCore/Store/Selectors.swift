import DeployerModel

/// A Kubernetes label selector: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`.
public struct LabelSelector: Sendable, Hashable, CustomStringConvertible {
    enum Requirement: Sendable, Hashable {
        case equals(String, String)
        case notEquals(String, String)
        case isIn(String, Set<String>)
        case notIn(String, Set<String>)
        case exists(String)
        case notExists(String)
    }

    let requirements: [Requirement]
    public let description: String

    /// Selects every object.
    public static let everything = LabelSelector(requirements: [], description: "")

    private init(requirements: [Requirement], description: String) {
        self.requirements = requirements
        self.description = description
    }

    /// Parses a selector; throws 400 naming the bad requirement.
    public init(parsing text: String) throws {
        var requirements: [Requirement] = []
        for clause in Self.splitClauses(text) {
            let part = clause.trimmingCharacters(in: .whitespaces)
            if part.isEmpty { continue }
            if let range = part.range(of: " notin ") ?? part.range(of: " in ") {
                let key = part[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
                var list = part[range.upperBound...].trimmingCharacters(in: .whitespaces)
                guard list.hasPrefix("("), list.hasSuffix(")") else {
                    throw APIError.badRequest("unable to parse requirement: \"\(part)\": values must be in parentheses")
                }
                list = String(list.dropFirst().dropLast())
                let values = Set(list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
                let isNegated = part[range].contains("notin")
                try Self.checkKey(key, in: part)
                requirements.append(isNegated ? .notIn(key, values) : .isIn(key, values))
            } else if let range = part.range(of: "!=") {
                let key = part[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
                try Self.checkKey(key, in: part)
                requirements.append(.notEquals(key, part[range.upperBound...].trimmingCharacters(in: .whitespaces)))
            } else if let range = part.range(of: "==") ?? part.range(of: "=") {
                let key = part[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
                let value = part[range.upperBound...].trimmingCharacters(in: .whitespaces)
                try Self.checkKey(key, in: part)
                guard NameRules.isLabelValue(value) else {
                    throw APIError.badRequest("unable to parse requirement: \"\(part)\": invalid label value")
                }
                requirements.append(.equals(key, value))
            } else if part.hasPrefix("!") {
                let key = String(part.dropFirst()).trimmingCharacters(in: .whitespaces)
                try Self.checkKey(key, in: part)
                requirements.append(.notExists(key))
            } else {
                try Self.checkKey(part, in: part)
                requirements.append(.exists(part))
            }
        }
        self.init(requirements: requirements, description: text)
    }

    private static func checkKey(_ key: String, in clause: String) throws {
        guard NameRules.isQualifiedName(key) else {
            throw APIError.badRequest("unable to parse requirement: \"\(clause)\": invalid label key \"\(key)\"")
        }
    }

    /// Splits on commas that are not inside parentheses.
    private static func splitClauses(_ text: String) -> [String] {
        var clauses: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            if character == "(" { depth += 1 }
            if character == ")" { depth -= 1 }
            if character == ",", depth == 0 {
                clauses.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        clauses.append(current)
        return clauses
    }

    /// Whether `labels` satisfy every requirement.
    public func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { requirement in
            switch requirement {
            case .equals(let key, let value): labels[key] == value
            case .notEquals(let key, let value): labels[key] != value
            case .isIn(let key, let values): labels[key].map(values.contains) ?? false
            case .notIn(let key, let values): !(labels[key].map(values.contains) ?? false)
            case .exists(let key): labels[key] != nil
            case .notExists(let key): labels[key] == nil
            }
        }
    }
}

/// A field selector over `metadata.name` and `metadata.namespace` (`=`, `==`, `!=`).
public struct FieldSelector: Sendable, Hashable, CustomStringConvertible {
    let requirements: [(field: String, value: String, equal: Bool)]

    /// Selects every object.
    public static let everything = FieldSelector(requirements: [])

    private init(requirements: [(field: String, value: String, equal: Bool)]) { self.requirements = requirements }

    /// Parses a selector; unsupported fields are a 400 as on a real API server.
    public init(parsing text: String) throws {
        var requirements: [(field: String, value: String, equal: Bool)] = []
        for clause in text.split(separator: ",") {
            let part = String(clause)
            let equal = !part.contains("!=")
            let pieces = part.components(separatedBy: equal ? (part.contains("==") ? "==" : "=") : "!=")
            guard pieces.count == 2 else { throw APIError.badRequest("invalid field selector: \"\(part)\"") }
            let field = pieces[0].trimmingCharacters(in: .whitespaces)
            guard field == "metadata.name" || field == "metadata.namespace" else {
                throw APIError.badRequest("field label not supported: \(field)")
            }
            requirements.append((field, pieces[1].trimmingCharacters(in: .whitespaces), equal))
        }
        self.init(requirements: requirements)
    }

    /// The selector as a query parameter writes it.
    public var description: String {
        requirements.map { "\($0.field)\($0.equal ? "=" : "!=")\($0.value)" }.joined(separator: ",")
    }

    /// The exact name this selector asks for, if any (what `kubectl wait` sends).
    public var exactName: String? {
        requirements.first { $0.field == "metadata.name" && $0.equal }?.value
    }

    func matches(_ key: ObjectKey) -> Bool {
        requirements.allSatisfy { requirement in
            let actual = requirement.field == "metadata.name" ? key.name : key.namespace
            return (actual == requirement.value) == requirement.equal
        }
    }

    public static func == (lhs: FieldSelector, rhs: FieldSelector) -> Bool {
        lhs.requirements.map { "\($0.field)\($0.equal)\($0.value)" } == rhs.requirements.map { "\($0.field)\($0.equal)\($0.value)" }
    }

    public func hash(into hasher: inout Hasher) {
        for requirement in requirements { hasher.combine("\(requirement.field)\(requirement.equal)\(requirement.value)") }
    }
}

import Foundation
