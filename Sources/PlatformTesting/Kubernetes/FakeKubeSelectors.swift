import DeployerModel

/// A label selector (`=`, `==`, `!=`, `in`, `notin`, `key`, `!key`) or a field selector
/// (`=`, `==`, `!=` on `metadata.name`, `metadata.namespace` and, for Events,
/// `involvedObject.*` and `reason`), as a list and watch take them.
struct FakeKubeSelector: Sendable {
    enum Requirement: Sendable {
        case equals(String, String)
        case notEquals(String, String)
        case isIn(String, Set<String>)
        case notIn(String, Set<String>)
        case exists(String)
        case notExists(String)
    }

    var requirements: [Requirement] = []

    static let everything = FakeKubeSelector()

    /// Parses a selector; throws 400 naming the parameter.
    init(_ text: String?, parameter: String) throws {
        guard let text, !text.trimmingCharacters(in: .whitespaces).isEmpty else { return }
        for part in Self.split(text) {
            let term = part.trimmingCharacters(in: .whitespaces)
            if let match = term.wholeMatch(of: /([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)/) {
                let values = Set(match.3.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
                requirements.append(match.2 == "in" ? .isIn(String(match.1), values) : .notIn(String(match.1), values))
            } else if let match = term.wholeMatch(of: /([^\s!=]+)\s*!=\s*([^\s]*)/) {
                requirements.append(.notEquals(String(match.1), String(match.2)))
            } else if let match = term.wholeMatch(of: /([^\s!=]+)\s*==?\s*([^\s]*)/) {
                requirements.append(.equals(String(match.1), String(match.2)))
            } else if let match = term.wholeMatch(of: /!([^\s!=]+)/) {
                requirements.append(.notExists(String(match.1)))
            } else if term.wholeMatch(of: /[^\s!=(),]+/) != nil {
                requirements.append(.exists(term))
            } else {
                throw APIError.badRequest("unable to parse requirement: \(parameter) \"\(term)\"")
            }
        }
    }

    private init() {}

    /// Splits on commas outside parentheses.
    private static func split(_ text: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            if character == "(" { depth += 1 }
            if character == ")" { depth -= 1 }
            if character == ",", depth == 0 {
                parts.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        parts.append(current)
        return parts
    }

    /// Whether `lookup` (a label or field value by key) satisfies every requirement.
    func matches(_ lookup: (String) -> String?) -> Bool {
        requirements.allSatisfy { requirement in
            switch requirement {
            case .equals(let key, let value): lookup(key) == value
            case .notEquals(let key, let value): lookup(key) != value
            case .isIn(let key, let values): lookup(key).map(values.contains) ?? false
            case .notIn(let key, let values): !(lookup(key).map(values.contains) ?? false)
            case .exists(let key): lookup(key) != nil
            case .notExists(let key): lookup(key) == nil
            }
        }
    }

    func matchesLabels(of object: JSONValue) -> Bool {
        let labels = object["metadata"]?["labels"]?.objectValue ?? [:]
        return matches { labels[$0]?.stringValue }
    }

    func matchesFields(of object: JSONValue) -> Bool {
        matches { key in
            var value: JSONValue? = object
            for part in key.split(separator: ".") { value = value?[String(part)] }
            if value == nil, key == "metadata.namespace" { return "" }
            return value?.stringValue
        }
    }
}
