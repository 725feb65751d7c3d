import AsyncHTTPClient
import Foundation
import NIOCore

/// How the event server answered one batch.
enum PostOutcome: Equatable {
    /// Stored durably.
    case acknowledged
    /// Refused for good (a 4xx other than 408 and 429): retrying the same batch cannot help.
    case refused(String)
    /// No answer, a timeout or a 5xx: try again later.
    case unreachable(String)
}

/// Sends NDJSON batches to one event server's `POST /events`.
struct EventPoster: Sendable {
    let target: EventTarget
    let http: HTTPClient
    let timeout: Duration

    func post(topic: String, routingKey: String, body: [UInt8]) async -> PostOutcome {
        var components = URLComponents()
        components.queryItems = [.init(name: "topic", value: topic), .init(name: "routingKey", value: routingKey)]
        var request = HTTPClientRequest(url: target.url.trimmingCharacters(in: ["/"]) + "/events" + (components.string ?? ""))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-ndjson")
        if let key = target.authKey { request.headers.add(name: "X-Event-Key", value: key) }
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await http.execute(request, timeout: .milliseconds(Int64(timeout / .milliseconds(1))))
            let answer = try await response.body.collect(upTo: 64 * 1024)
            let code = Int(response.status.code)
            if (200..<300).contains(code) { return .acknowledged }
            let message = "HTTP \(code): \(String(buffer: answer).prefix(300))"
            return (400..<500).contains(code) && code != 408 && code != 429 ? .refused(message) : .unreachable(message)
        } catch {
            return .unreachable("\(error)")
        }
    }
}
