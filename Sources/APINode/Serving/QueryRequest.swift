import DeployerModel

/// A query's request as read: a prediction query's records and members, or any other body as a
/// JSON value.
enum QueryRequest: Sendable {
    case value(JSONValue)
    case prediction(PredictionRequest)

    /// A top-level member of the body (`dispatch`, `context`, …).
    subscript(member name: String) -> JSONValue? {
        switch self {
        case .value(let value): value[name]
        case .prediction(let request): request.members[name]
        }
    }
}
