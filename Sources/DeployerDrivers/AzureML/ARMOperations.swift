import CloudHTTP
import DeployerCore
import DeployerModel
import Foundation
import NIOHTTP1

/// Azure Resource Manager calls of one workspace through a bearer client: paths with the
/// pinned `api-version`, the ARM error envelope turned into driver errors, and long-running
/// operations followed to their end (reference §3.5).
struct ARMWorkspace: Sendable {
    static let apiVersion = "2024-04-01"
    /// Polls of one operation before the reconcile lets go (it is looked at again next time).
    static let maximumPolls = 60

    let client: BearerClient
    /// `https://management.azure.com/subscriptions/…/workspaces/{ws}` (or the override's).
    let base: String
    let pause: @Sendable (Duration) async throws -> Void

    func url(_ path: String) -> String { "\(base)\(path.isEmpty ? "" : "/" + path)?api-version=\(Self.apiVersion)" }

    /// GET; nil for 404.
    func get(_ path: String) async throws -> JSONValue? {
        let answer = try await client.send(.GET, url(path))
        if answer.status == 404 { return nil }
        try Self.check(answer, "GET \(path)")
        return answer.body
    }

    /// PUT, POST or DELETE followed by its operation until it ends.
    func change(_ method: HTTPMethod, _ path: String, body: JSONValue? = nil) async throws -> JSONValue {
        let answer = try await client.send(method, url(path), body: body)
        if method == .DELETE, answer.status == 404 { return .null }
        try Self.check(answer, "\(method.rawValue) \(path)")
        try await follow(answer, "\(method.rawValue) \(path)")
        return answer.body
    }

    /// Follows `Azure-AsyncOperation` (status resource) or `Location` (202 until done).
    func follow(_ answer: RESTAnswer, _ what: String) async throws {
        if let status = answer.header("Azure-AsyncOperation") {
            for _ in 0..<Self.maximumPolls {
                let poll = try await client.send(.GET, status)
                try Self.check(poll, what)
                switch poll.body["status"]?.stringValue {
                case "Succeeded"?: return
                case "Failed"?, "Canceled"?:
                    let error = poll.body["error"]
                    throw DriverError(
                        "\(what) \(poll.body["status"]?.stringValue ?? ""): \(error?["code"]?.stringValue ?? "")\(error?["message"]?.stringValue.map { ": \($0)" } ?? "")",
                        isPermanent: true)
                default:
                    try await pause(Self.retryAfter(poll))
                }
            }
            throw DriverError("\(what) is still running; looked at again later")
        }
        guard answer.status == 202, let location = answer.header("Location") else { return }
        for _ in 0..<Self.maximumPolls {
            let poll = try await client.send(.GET, location)
            if poll.status != 202 {
                try Self.check(poll, what)
                return
            }
            try await pause(Self.retryAfter(poll))
        }
        throw DriverError("\(what) is still running; looked at again later")
    }

    static func retryAfter(_ answer: RESTAnswer) -> Duration {
        .seconds(answer.header("Retry-After").flatMap(Int.init).map { min(60, max(1, $0)) } ?? 5)
    }

    /// Throws the ARM error of a failed answer.
    static func check(_ answer: RESTAnswer, _ what: String) throws {
        guard !answer.isSuccess else { return }
        throw DriverError.platform(answer, what, codeKey: "code")
    }
}
