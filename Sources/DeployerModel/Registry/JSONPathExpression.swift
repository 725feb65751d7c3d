/// The subset of kubectl JSONPath used by printer columns and `wait --for=jsonpath`:
/// `.a.b`, `[0]`, `[*]` and filters `[?(@.type=="Ready")]`.
public struct JSONPathExpression: Sendable {
    private enum Step: Sendable {
        case member(String)
        case index(Int)
        case all
        case filter(key: String, equals: String)
    }

    private let steps: [Step]

    /// Parses an expression, with or without surrounding `{}`.
    public init?(_ text: String) {
        var source = Substring(text.trimmingCharacters(in: .whitespaces))
        if source.hasPrefix("{"), source.hasSuffix("}") { source = source.dropFirst().dropLast() }
        var steps: [Step] = []
        while !source.isEmpty {
            if source.hasPrefix(".") {
                source = source.dropFirst()
                let name = source.prefix { $0 != "." && $0 != "[" }
                guard !name.isEmpty else { return nil }
                steps.append(.member(String(name)))
                source = source.dropFirst(name.count)
            } else if source.hasPrefix("[") {
                guard let close = source.firstIndex(of: "]") else { return nil }
                let inner = source[source.index(after: source.startIndex)..<close]
                source = source[source.index(after: close)...]
                if inner == "*" {
                    steps.append(.all)
                } else if let position = Int(inner) {
                    steps.append(.index(position))
                } else if inner.hasPrefix("?(@."), inner.hasSuffix(")"), let equals = inner.range(of: "==") {
                    let key = inner[inner.index(inner.startIndex, offsetBy: 4)..<equals.lowerBound]
                    var expected = inner[equals.upperBound..<inner.index(before: inner.endIndex)]
                    expected = expected.trimmingCharacters(in: CharacterSet(charactersIn: "\"' "))[...]
                    steps.append(.filter(key: String(key), equals: String(expected)))
                } else if inner.hasPrefix("'"), inner.hasSuffix("'"), inner.count >= 2 {
                    steps.append(.member(String(inner.dropFirst().dropLast())))
                } else {
                    return nil
                }
            } else {
                return nil
            }
        }
        self.steps = steps
    }

    /// Every value the expression selects.
    public func evaluate(_ root: JSONValue) -> [JSONValue] {
        var current = [root]
        for step in steps {
            current = current.flatMap { value -> [JSONValue] in
                switch step {
                case .member(let name): return value[name].map { [$0] } ?? []
                case .index(let position):
                    guard let elements = value.arrayValue else { return [] }
                    let resolved = position < 0 ? elements.count + position : position
                    return elements.indices.contains(resolved) ? [elements[resolved]] : []
                case .all: return value.arrayValue ?? value.objectValue.map { Array($0.values) } ?? []
                case .filter(let key, let expected):
                    return (value.arrayValue ?? []).filter { $0[key].map(Self.text) == expected }
                }
            }
        }
        return current
    }

    /// The selected values as text, joined with commas (how printer columns show lists).
    public func text(in root: JSONValue) -> String {
        evaluate(root).map(Self.text).joined(separator: ",")
    }

    /// A value rendered the way kubectl prints it: strings bare, the rest as JSON.
    public static func text(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): text
        case .null: ""
        default: value.jsonString
        }
    }
}

import Foundation
