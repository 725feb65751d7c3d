import ArgumentParser
import AsyncHTTPClient
import CloudHTTP
import DeployerModel
import Foundation
import NIOHTTP1

/// `apideployer token create|list|revoke`: API tokens of the embedded deployer (global admins).
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Create, list and revoke API tokens.", subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token for a user (created if missing) and print it once.")
        @OptionGroup var client: ClientOptions
        @Option(help: "The user the token authenticates as.") var user: String
        @Option(help: "Groups the token adds to the user's, comma-separated.") var groups: String?
        @Option(help: "Lifetime, such as 30d, 12h or 90m (default: no expiry).") var expires: String?
        @Option(help: "What the token is for.") var description: String?

        func run() async throws {
            var body: JSONValue = ["user": .string(user), "groups": .array(splitList(groups).map(JSONValue.string))]
            if let expires {
                guard let seconds = lifetimeSeconds(expires) else { throw CLIError("--expires: \"\(expires)\" is not a duration such as 30d, 12h or 90m") }
                body["expiresSeconds"] = .int(Int64(seconds))
            }
            if let description { body["description"] = .string(description) }
            let created = try await identityRequest(client, .POST, "tokens", body: body, createUser: user)
            print(created["secret"]?.stringValue ?? "")
            printError("token \(created["id"]?.stringValue ?? "") for user \"\(user)\": shown once, store it now")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (never their secrets).")
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let items = try await identityRequest(client, .GET, "tokens")["items"]?.arrayValue ?? []
            var rows = [["ID", "USER", "GROUPS", "CREATED", "EXPIRES", "REVOKED", "DESCRIPTION"]]
            for token in items {
                rows.append(
                    ["id", "user", "groups", "created", "expires", "revoked", "description"].map { field in
                        if field == "groups" { return (token[field]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ",") }
                        return token[field]?.stringValue ?? "-"
                    })
            }
            TablePrinter.aligned(rows).forEach { print($0) }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token: refused from now on.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The token's id (see `token list`).") var id: String

        func run() async throws {
            _ = try await identityRequest(client, .DELETE, "tokens/\(id)")
            print("token \(id) revoked")
        }
    }
}

/// `apideployer user create|list|delete`.
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage users of the embedded deployer.", subcommands: [Create.self, List.self, Delete.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a user.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "User name.") var name: String
        @Option(help: "The user's groups, comma-separated.") var groups: String?

        func run() async throws {
            _ = try await identityRequest(client, .POST, "users", body: ["name": .string(name), "groups": .array(splitList(groups).map(JSONValue.string))])
            print("user \"\(name)\" created")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users and their groups.")
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let items = try await identityRequest(client, .GET, "users")["items"]?.arrayValue ?? []
            var rows = [["NAME", "GROUPS", "CREATED"]]
            for user in items {
                let groups = (user["groups"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ",")
                rows.append([user["name"]?.stringValue ?? "", groups, user["created"]?.stringValue ?? ""])
            }
            TablePrinter.aligned(rows).forEach { print($0) }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a user and revoke its tokens.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "User name.") var name: String

        func run() async throws {
            _ = try await identityRequest(client, .DELETE, "users/\(name)")
            print("user \"\(name)\" deleted, its tokens revoked")
        }
    }
}

/// `apideployer group list|add|remove`: group memberships of users.
struct GroupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "group", abstract: "Manage group memberships.", subcommands: [List.self, Add.self, Remove.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List groups and their members.")
        @OptionGroup var client: ClientOptions

        func run() async throws {
            var members: [String: [String]] = [:]
            for user in try await identityRequest(client, .GET, "users")["items"]?.arrayValue ?? [] {
                for group in user["groups"]?.arrayValue ?? [] { members[group.stringValue ?? "", default: []].append(user["name"]?.stringValue ?? "") }
            }
            let rows = [["GROUP", "MEMBERS"]] + members.keys.sorted().map { [$0, members[$0]!.sorted().joined(separator: ",")] }
            TablePrinter.aligned(rows).forEach { print($0) }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add users to a group.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Group name.") var group: String
        @Argument(help: "User names.") var users: [String]

        func run() async throws {
            for user in users { _ = try await identityRequest(client, .POST, "users/\(user)/groups", body: ["add": [.string(group)]]) }
            print("added to group \"\(group)\": \(users.joined(separator: ", "))")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove users from a group.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Group name.") var group: String
        @Argument(help: "User names.") var users: [String]

        func run() async throws {
            for user in users { _ = try await identityRequest(client, .POST, "users/\(user)/groups", body: ["remove": [.string(group)]]) }
            print("removed from group \"\(group)\": \(users.joined(separator: ", "))")
        }
    }
}

/// One call to the deployer's identity API; with `createUser`, a 404 for that user makes it
/// first (so `token create --user ci` works on a fresh deployer).
private func identityRequest(
    _ options: ClientOptions, _ method: HTTPMethod, _ path: String, body: JSONValue? = nil, createUser: String? = nil
) async throws -> JSONValue {
    try await options.withClient { client in
        let url = "/identity/v1/" + path
        var response = try await client.send(method, url, body: body?.serialized())
        if response.status == 404, let createUser {
            _ = try await client.send(.POST, "/identity/v1/users", body: (["name": .string(createUser), "groups": []] as JSONValue).serialized()).checked()
            response = try await client.send(method, url, body: body?.serialized())
        }
        return try response.checked()
    }
}

private func splitList(_ text: String?) -> [String] {
    (text ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
}

/// Seconds in `30d`, `12h`, `90m` or `45s`.
func lifetimeSeconds(_ text: String) -> Int? {
    guard let unit = text.last, let count = Int(text.dropLast()), count > 0 else { return nil }
    switch unit {
    case "d": return count * 86_400
    case "h": return count * 3_600
    case "m": return count * 60
    case "s": return count
    default: return nil
    }
}
