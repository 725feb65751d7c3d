import DeployerModel

/// An error answered to a caller of the public API: `{"errorType", "message", "details"}`.
public struct QueryError: Error, Sendable, CustomStringConvertible {
    public let status: Int
    public let errorType: String
    public let message: String
    public let details: JSONValue?

    public init(status: Int, errorType: String, message: String, details: JSONValue? = nil) {
        self.status = status
        self.errorType = errorType
        self.message = message
        self.details = details
    }

    public var description: String { message }

    /// The JSON body.
    public var body: JSONValue {
        var body: JSONValue = ["errorType": .string(errorType), "message": .string(message)]
        if let details { body["details"] = details }
        return body
    }

    static func notFound(_ message: String) -> QueryError { QueryError(status: 404, errorType: "NotFound", message: message) }
    static func badRequest(_ message: String, details: JSONValue? = nil) -> QueryError {
        QueryError(status: 400, errorType: "BadRequest", message: message, details: details)
    }
    static func unavailable(_ message: String) -> QueryError { QueryError(status: 503, errorType: "ServiceUnavailable", message: message) }
}
