import DeployerCore
import DeployerModel
import Foundation
import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle

/// The admission webhook on its own HTTPS port (Kubernetes calls webhooks over TLS only), for
/// the controller in a cluster: `POST /admission/v1/review` answered by `reviewer`.
public func makeWebhookServer(
    reviewer: AdmissionReviewer, host: String, port: Int, certificatePEM: String, keyPEM: String, logger: Logger,
    onListening: @escaping @Sendable (String) async -> Void
) throws -> some Service {
    let chain = try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8)).map { NIOSSLCertificateSource.certificate($0) }
    let key = try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem)
    let router = Router()
    router.post(RouterPath(AdmissionReviewer.path)) { request, _ -> Response in
        let bytes = try await request.body.collect(upTo: 16 * 1024 * 1024)
        guard let review = try? JSONValue.parse(Array(bytes.readableBytesView)) else {
            return Response(status: .badRequest, body: .init(byteBuffer: ByteBuffer(string: "the body must be an AdmissionReview")))
        }
        let answer = await reviewer.answer(review)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: answer.serialized())))
    }
    return Application(
        router: router,
        server: try .tls(.http1(), tlsConfiguration: TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))),
        configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "apideployer-webhook"),
        onServerRunning: { channel in await onListening("https://\(host):\(channel.localAddress?.port ?? port)") },
        logger: logger)
}
