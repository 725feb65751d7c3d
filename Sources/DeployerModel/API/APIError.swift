/// A failed API request, carried as a Kubernetes `Status` object (`reason`, `code`, causes).
public struct APIError: Error, Sendable, CustomStringConvertible {
    public var code: Int
    public var reason: String
    public var message: String
    public var name: String?
    public var kind: String?
    public var causes: [FieldError]
    /// Seconds a client should wait before retrying (429, 503).
    public var retryAfterSeconds: Int?

    public init(
        code: Int, reason: String, message: String, name: String? = nil, kind: String? = nil, causes: [FieldError] = []
    ) {
        self.code = code
        self.reason = reason
        self.message = message
        self.name = name
        self.kind = kind
        self.causes = causes
    }

    public var description: String { message }

    /// The `Status` object for the response body.
    public var status: JSONValue {
        var details: JSONValue = [:]
        if let name { details["name"] = .string(name) }
        if let kind {
            details["group"] = .string(ResourceKind.group)
            details["kind"] = .string(kind)
        }
        if !causes.isEmpty {
            details["causes"] = .array(
                causes.map { ["reason": .string($0.reason.rawValue), "message": .string($0.message), "field": .string($0.field)] })
        }
        var body: JSONValue = [
            "kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure",
            "message": .string(message), "reason": .string(reason), "code": .int(Int64(code)),
        ]
        if details != [:] { body["details"] = details }
        return body
    }

    /// Reads a `Status` body back (the CLI's view of a server error).
    public init?(status: JSONValue) {
        guard status["kind"]?.stringValue == "Status", let code = status["code"]?.intValue else { return nil }
        self.code = Int(code)
        reason = status["reason"]?.stringValue ?? "Unknown"
        message = status["message"]?.stringValue ?? ""
        name = status["details"]?["name"]?.stringValue
        kind = status["details"]?["kind"]?.stringValue
        causes = (status["details"]?["causes"]?.arrayValue ?? []).map(FieldError.init(cause:))
    }
}

extension APIError {
    public static func notFound(_ kind: ResourceKind, _ name: String) -> APIError {
        APIError(code: 404, reason: "NotFound", message: "\(kind.qualifiedResource) \"\(name)\" not found", name: name, kind: kind.plural)
    }

    public static func alreadyExists(_ kind: ResourceKind, _ name: String) -> APIError {
        APIError(
            code: 409, reason: "AlreadyExists", message: "\(kind.qualifiedResource) \"\(name)\" already exists", name: name,
            kind: kind.plural)
    }

    public static func conflict(_ kind: ResourceKind, _ name: String, _ detail: String = Self.optimisticLockMessage) -> APIError {
        APIError(
            code: 409, reason: "Conflict", message: "Operation cannot be fulfilled on \(kind.qualifiedResource) \"\(name)\": \(detail)",
            name: name, kind: kind.plural)
    }

    public static let optimisticLockMessage =
        "the object has been modified; please apply your changes to the latest version and try again"

    public static func invalid(_ kind: ResourceKind, _ name: String, _ causes: [FieldError]) -> APIError {
        let joined = causes.count == 1 ? causes[0].description : "[" + causes.map(\.description).joined(separator: ", ") + "]"
        return APIError(
            code: 422, reason: "Invalid", message: "\(kind.kind).\(ResourceKind.group) \"\(name)\" is invalid: \(joined)",
            name: name, kind: kind.kind, causes: causes)
    }

    public static func badRequest(_ message: String) -> APIError {
        APIError(code: 400, reason: "BadRequest", message: message)
    }

    public static func gone(_ message: String) -> APIError {
        APIError(code: 410, reason: "Expired", message: message)
    }

    public static func unauthorized() -> APIError {
        APIError(code: 401, reason: "Unauthorized", message: "Unauthorized")
    }

    public static func forbidden(_ message: String) -> APIError {
        APIError(code: 403, reason: "Forbidden", message: message)
    }

    public static func methodNotAllowed(_ message: String = "the server does not allow this method on the requested resource")
        -> APIError
    {
        APIError(code: 405, reason: "MethodNotAllowed", message: message)
    }

    public static func unsupportedMediaType(_ contentType: String, accepted: [String]) -> APIError {
        APIError(
            code: 415, reason: "UnsupportedMediaType",
            message: "the body of the request was in an unknown format (\(contentType)) - accepted media types include: "
                + accepted.joined(separator: ", "))
    }

    public static func tooLarge(_ limit: Int) -> APIError {
        APIError(code: 413, reason: "RequestEntityTooLarge", message: "the request body is larger than \(limit) bytes")
    }

    public static func internalError(_ message: String) -> APIError {
        APIError(code: 500, reason: "InternalError", message: "Internal error occurred: \(message)")
    }

    public static func resourceNotFound(_ path: String) -> APIError {
        APIError(code: 404, reason: "NotFound", message: "the server could not find the requested resource (\(path))")
    }
}
