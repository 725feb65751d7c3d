import DeployerCore
import DeployerModel
import Foundation

/// Users, groups and tokens over HTTP, for global admins (`apideployer user|group|token`):
///
/// - `GET /identity/v1/whoami` (any caller): the caller's user, groups and whether it is admin;
/// - `GET|POST /identity/v1/users`, `DELETE /identity/v1/users/NAME`,
///   `POST /identity/v1/users/NAME/groups` with `{"add": [...], "remove": [...]}`;
/// - `GET|POST /identity/v1/tokens` (`{"user", "groups", "expiresSeconds", "description"}`;
///   the answer holds the token once, as `secret`), `DELETE /identity/v1/tokens/ID` (revokes).
struct IdentityAPI {
    static let pathPrefix = "/identity/v1"
    let store: IdentityStore

    static func handles(_ path: String) -> Bool { path.hasPrefix(pathPrefix + "/") }

    func handle(_ request: APIRequest, caller: Caller) throws -> APIResponse {
        let segments = request.path.dropFirst(Self.pathPrefix.count).split(separator: "/").map(String.init)
        if request.method == "GET", segments == ["whoami"] {
            return .json([
                "user": .string(caller.user), "groups": .array(caller.groups.sorted().map(JSONValue.string)),
                "globalAdmin": .bool(caller.isGlobalAdmin),
            ])
        }
        guard caller.isGlobalAdmin else {
            throw AccessDenied(error: .forbidden("user \"\(caller.user)\" cannot manage identities: only global admins can"))
        }
        switch (request.method, segments.first, segments.count) {
        case ("GET", "users", 1):
            return .json(["items": .array(try store.users.map { try IdentityStore.json($0) })])
        case ("POST", "users", 1):
            let body = try Self.body(request)
            try store.createUser(try Self.string(body, "name"), groups: Self.strings(body, "groups"))
            return .json(try IdentityStore.json(store.users.first { $0.name == body["name"]?.stringValue }), status: 201)
        case ("POST", "users", 3) where segments[2] == "groups":
            let body = try Self.body(request)
            try store.changeGroups(of: segments[1], adding: Self.strings(body, "add"), removing: Self.strings(body, "remove"))
            return .json(try IdentityStore.json(store.users.first { $0.name == segments[1] }))
        case ("DELETE", "users", 2):
            try store.deleteUser(segments[1])
            return .json(["status": "Success"])
        case ("GET", "tokens", 1):
            return .json(["items": .array(try store.tokens.map(Self.describe))])
        case ("POST", "tokens", 1):
            let body = try Self.body(request)
            let lifetime = body["expiresSeconds"]?.intValue
            if let lifetime, lifetime <= 0 { throw APIError.badRequest("expiresSeconds: must be positive") }
            let created = try store.createToken(
                user: try Self.string(body, "user"), groups: Self.strings(body, "groups"),
                expires: lifetime.map { Date().addingTimeInterval(TimeInterval($0)) }, description: body["description"]?.stringValue)
            var answer = try Self.describe(created.token)
            answer["secret"] = .string(created.secret)
            return .json(answer, status: 201)
        case ("DELETE", "tokens", 2):
            try store.revokeToken(segments[1])
            return .json(["status": "Success"])
        default:
            throw APIError.resourceNotFound(request.path)
        }
    }

    /// A token as listed: everything but its hash.
    private static func describe(_ token: IdentityStore.Token) throws -> JSONValue {
        var json = try IdentityStore.json(token)
        json["sha256"] = nil
        return json
    }

    private static func body(_ request: APIRequest) throws -> JSONValue {
        guard let body = try? JSONValue.parse(request.body), body.objectValue != nil else {
            throw APIError.badRequest("the request body must be a JSON object")
        }
        return body
    }

    private static func string(_ body: JSONValue, _ field: String) throws -> String {
        guard let value = body[field]?.stringValue, !value.isEmpty else { throw APIError.badRequest("\(field): required") }
        return value
    }

    private static func strings(_ body: JSONValue, _ field: String) throws -> [String] {
        guard let value = body[field] else { return [] }
        guard let items = value.arrayValue, items.allSatisfy({ $0.stringValue != nil }) else {
            throw APIError.badRequest("\(field): must be an array of strings")
        }
        return items.compactMap(\.stringValue)
    }
}
