import CloudHTTP
import DeployerCore
import DeployerModel
import Foundation
import NIOHTTP1

/// Vertex AI's REST API (v1) and Cloud Storage uploads through one bearer client: Google's
/// error envelope as driver errors, and `google.longrunning.Operation`s polled until `done`.
struct VertexAPI: Sendable {
    /// Polls of one operation before the reconcile lets go (it is looked at again next time).
    static let maximumPolls = 60

    let client: BearerClient
    /// `https://{location}-aiplatform.googleapis.com` (or the override).
    let base: String
    /// `https://storage.googleapis.com` (or the override).
    let storage: String
    /// `projects/{project}/locations/{location}`.
    let parent: String
    let pause: @Sendable (Duration) async throws -> Void

    /// GET `/v1/{name}`; nil for 404.
    func get(_ name: String) async throws -> JSONValue? {
        let answer = try await client.send(.GET, "\(base)/v1/\(name)")
        if answer.status == 404 { return nil }
        try Self.check(answer, "GET \(name)")
        return answer.body
    }

    /// A call answered at once.
    func call(_ method: HTTPMethod, _ path: String, body: JSONValue? = nil) async throws -> JSONValue {
        let answer = try await client.send(method, "\(base)/v1/\(path)", body: body)
        try Self.check(answer, "\(method.rawValue) \(path)")
        return answer.body
    }

    /// A call that answers with an operation, polled until it is done; its `response`.
    func operation(_ method: HTTPMethod, _ path: String, body: JSONValue? = nil, allowNotFound: Bool = false) async throws -> JSONValue {
        let answer = try await client.send(method, "\(base)/v1/\(path)", body: body)
        if allowNotFound, answer.status == 404 { return .null }
        try Self.check(answer, "\(method.rawValue) \(path)")
        var operation = answer.body
        for _ in 0..<Self.maximumPolls {
            if operation["done"]?.boolValue == true {
                if let error = operation["error"] {
                    let code = error["code"]?.intValue ?? 0
                    // Not found, invalid, failed precondition, permission: retrying cannot help.
                    throw DriverError("\(method.rawValue) \(path) failed (code \(code)): \(error["message"]?.stringValue ?? "")", isPermanent: [3, 5, 7, 9].contains(code))
                }
                return operation["response"] ?? .null
            }
            guard let name = operation["name"]?.stringValue else { return .null }
            try await pause(.seconds(2))
            operation = try await get(name) ?? [:]
        }
        throw DriverError("\(method.rawValue) \(path) is still running; looked at again later")
    }

    /// Uploads `bytes` as `gs://{bucket}/{object}` (simple media upload).
    func upload(bucket: String, object: String, bytes: [UInt8]) async throws {
        let url = "\(storage)/upload/storage/v1/b/\(bucket)/o?uploadType=media&name=\(PercentEncoding.unreserved(object))"
        let answer = try await client.send(.POST, url, bytes: bytes, contentType: "application/zip")
        try Self.check(answer, "upload gs://\(bucket)/\(object)")
    }

    /// Deletes `gs://{bucket}/{object}`; one already gone is fine.
    func deleteObject(bucket: String, object: String) async throws {
        let answer = try await client.send(.DELETE, "\(storage)/storage/v1/b/\(bucket)/o/\(PercentEncoding.unreserved(object))")
        if answer.status != 404 { try Self.check(answer, "delete gs://\(bucket)/\(object)") }
    }

    /// Throws Google's error of a failed answer.
    static func check(_ answer: RESTAnswer, _ what: String) throws {
        guard !answer.isSuccess else { return }
        throw DriverError.platform(answer, what, codeKey: "status")
    }
}
