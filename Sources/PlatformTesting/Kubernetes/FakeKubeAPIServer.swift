import AsyncHTTPClient
import DeployerModel
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Serves a `FakeKubeCluster` over HTTP on loopback (reference section 9): JSON bodies up to
/// 3 MiB, watches as chunked NDJSON flushed per event, and the service proxy
/// (`/api/v1/namespaces/{ns}/services/{name}[:port]/proxy/…`) passed to a ready pod. The
/// cluster's pods are stopped when `body` ends.
public enum FakeKubeAPIServer {
    static let maximumBodyBytes = 3 * 1024 * 1024

    public static func with(_ cluster: FakeKubeCluster, _ body: (String) async throws -> Void) async throws {
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            guard let buffer = try? await request.body.collect(upTo: maximumBodyBytes) else {
                return FakeResponse.json(413, APIError.tooLarge(maximumBodyBytes).status).response
            }
            let fake = FakeRequest(request, body: Array(buffer.readableBytesView))
            switch await cluster.handle(fake) {
            case .response(let answer):
                return answer.response
            case .stream(let lines):
                var fields = HTTPFields()
                fields[.contentType] = "application/json"
                return Response(status: .ok, headers: fields, body: ResponseBody(asyncSequence: lines.map { ByteBuffer(bytes: $0) }))
            case .proxy(let pod, let url):
                defer { Task { await cluster.proxyFinished(pod) } }
                return await forward(fake, to: url).response
            }
        }
        var failure: (any Error)?
        do {
            try await FakeHTTPServer.with(responder: responder) { url in
                do {
                    try await body(url)
                } catch {
                    await cluster.endWatches()
                    throw error
                }
                await cluster.endWatches()
            }
        } catch {
            failure = error
        }
        await cluster.stopAllPods()
        if let failure { throw failure }
    }

    /// Passes a request to a pod as the API server's proxy does (without the caller's
    /// credentials); a pod that does not answer is a 503.
    private static func forward(_ request: FakeRequest, to url: String) async -> FakeResponse {
        var outgoing = HTTPClientRequest(url: url)
        outgoing.method = .init(rawValue: request.method)
        for (name, value) in request.headers where !["authorization", "host", "content-length", "connection"].contains(name) {
            outgoing.headers.add(name: name, value: value)
        }
        if !request.body.isEmpty { outgoing.body = .bytes(ByteBuffer(bytes: request.body)) }
        do {
            let answer = try await HTTPClient.shared.execute(outgoing, timeout: .seconds(60))
            let bytes = try await answer.body.collect(upTo: 64 * 1024 * 1024)
            var headers: [String: String] = [:]
            for (name, value) in answer.headers where !["content-length", "transfer-encoding", "connection"].contains(name.lowercased()) { headers[name] = value }
            return FakeResponse(status: Int(answer.status.code), headers: headers, body: Array(bytes.readableBytesView))
        } catch {
            return .json(503, APIError(code: 503, reason: "ServiceUnavailable", message: "error trying to reach service: \(error)").status)
        }
    }
}
