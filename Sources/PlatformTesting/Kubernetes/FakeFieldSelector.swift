import DeployerModel

/// A field selector as a 1.32 server takes it: `=`, `==` and `!=` on `metadata.name` and
/// `metadata.namespace` for every resource, plus `involvedObject.*`, `reason` and `type` for
/// Events; any other field is a 400. (Label selectors are `DeployerCore.LabelSelector`.)
struct FakeFieldSelector: Sendable {
    static let eventFields: Set<String> = [
        "involvedObject.kind", "involvedObject.name", "involvedObject.namespace", "involvedObject.uid", "involvedObject.apiVersion", "reason", "type",
    ]

    private var requirements: [(field: String, value: String, equal: Bool)] = []

    static let everything = FakeFieldSelector()

    private init() {}

    init(_ text: String?, events: Bool) throws {
        for clause in (text ?? "").split(separator: ",") {
            let part = String(clause)
            let equal = !part.contains("!=")
            let pieces = part.components(separatedBy: equal ? (part.contains("==") ? "==" : "=") : "!=")
            guard pieces.count == 2 else { throw APIError.badRequest("invalid field selector: \"\(part)\"") }
            let field = pieces[0].trimmingCharacters(in: .whitespaces)
            guard field == "metadata.name" || field == "metadata.namespace" || (events && Self.eventFields.contains(field)) else {
                throw APIError.badRequest("field label not supported: \(field)")
            }
            requirements.append((field, pieces[1].trimmingCharacters(in: .whitespaces), equal))
        }
    }

    func matches(_ object: JSONValue) -> Bool {
        requirements.allSatisfy { requirement in
            var value: JSONValue? = object
            for part in requirement.field.split(separator: ".") { value = value?[String(part)] }
            let actual = value?.stringValue ?? ""
            return (actual == requirement.value) == requirement.equal
        }
    }
}
