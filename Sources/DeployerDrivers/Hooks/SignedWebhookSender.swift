import AsyncHTTPClient
import Crypto
import DeployerCore
import DeployerModel
import Foundation
import NIOCore

/// Delivers `http` hooks with AsyncHTTPClient, signing the body with HMAC-SHA256 when the
/// hook names a key: header `X-APIDeployer-Signature: sha256=HEX` (the GitHub webhook scheme).
public struct SignedWebhookSender: WebhookSender {
    public static let signatureHeader = "X-APIDeployer-Signature"
    let http: HTTPClient

    public init(http: HTTPClient) { self.http = http }

    public func deliver(url: String, body: [UInt8], signingKey: String?, timeout: Duration) async throws -> Int {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "apideployer-hooks")
        if let signingKey { request.headers.add(name: Self.signatureHeader, value: Self.signature(of: body, key: signingKey)) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let seconds = timeout.components.seconds
        let response = try await http.execute(request, timeout: .seconds(max(1, seconds)))
        _ = try await response.body.collect(upTo: 1024 * 1024)
        return Int(response.status.code)
    }

    /// `sha256=` and the lowercase hex HMAC-SHA256 of `body` under `key`.
    public static func signature(of body: [UInt8], key: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(key.utf8)))
        return "sha256=" + mac.hexString
    }
}
