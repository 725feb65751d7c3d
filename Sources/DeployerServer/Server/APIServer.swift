import DeployerCore
import DeployerModel
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle

/// Settings of `apideployer serve`.
public struct APIServerSettings: Sendable {
    public var host = "127.0.0.1"
    /// 0 lets the system choose a free port.
    public var port = 7443
    /// PEM certificate and key; nil serves plain HTTP (tests of the fake use this only).
    public var tls: (certificate: String, key: String)?

    public init(host: String = "127.0.0.1", port: Int = 7443, tls: (certificate: String, key: String)?) {
        self.host = host
        self.port = port
        self.tls = tls
    }
}

/// Builds the HTTP(S) application serving `api`. `onListening` receives the base URL once the
/// socket is bound (the port is known even when 0 was asked for).
public func makeAPIServer(
    api: KubeAPI, packages: PackageAPI? = nil, settings: APIServerSettings, logger: Logger,
    onListening: @escaping @Sendable (String) async -> Void
) throws -> some Service {
    let scheme = settings.tls == nil ? "http" : "https"
    let server: HTTPServerBuilder
    if let tls = settings.tls {
        let chain = try NIOSSLCertificate.fromPEMBytes(Array(tls.certificate.utf8)).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(bytes: Array(tls.key.utf8), format: .pem)
        server = try .tls(.http1(), tlsConfiguration: TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key)))
    } else {
        server = .http1()
    }
    return Application(
        responder: HTTPAdapter(api: api, packages: packages), server: server,
        configuration: ApplicationConfiguration(address: .hostname(settings.host, port: settings.port), serverName: "apideployer"),
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? settings.port
            await onListening("\(scheme)://\(settings.host):\(port)")
        },
        logger: logger)
}

/// Ends open watches as soon as shutdown begins, so long-running watch responses do not hold
/// the server's graceful shutdown back.
public struct WatchCloser: Service {
    let store: ObjectStore

    public init(store: ObjectStore) { self.store = store }

    public func run() async throws {
        try? await gracefulShutdown()
        await store.finishWatches()
    }
}

/// Sends watch bookmarks on a period (watches that asked with `allowWatchBookmarks=true`).
public struct BookmarkTicker<C: Clock>: Service where C.Duration == Duration {
    let store: ObjectStore
    let period: Duration
    let clock: C

    public init(store: ObjectStore, period: Duration = .seconds(30), clock: C) {
        self.store = store
        self.period = period
        self.clock = clock
    }

    /// Ticks until graceful shutdown begins; the sleep is cancelled then, so shutdown is immediate.
    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while true {
                    try await clock.sleep(for: period)
                    await store.sendBookmarks()
                }
            }
        } catch is CancellationError {
            return
        }
    }
}

/// Creates the default stages in an empty store (first start only).
public func seedDefaultStages(_ store: ObjectStore) async throws {
    guard await store.currentResourceVersion() == 0 else { return }
    for stage in Stage.defaults {
        var document = try JSONValue(encoding: stage)
        document["apiVersion"] = .string(ResourceKind.apiVersion)
        document["kind"] = "Stage"
        document["metadata"]?["namespace"] = "default"
        _ = try await store.create(document, kind: .stage, dryRun: false)
    }
}
