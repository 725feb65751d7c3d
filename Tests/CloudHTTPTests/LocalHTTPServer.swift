import Hummingbird
import Logging
import ServiceLifecycle
import Testing

/// A Hummingbird server on a free loopback port for the duration of `body`, which gets its URL.
enum LocalHTTPServer {
    static func with(_ router: Router<BasicRequestContext>, _ body: (String) async throws -> Void) async throws {
        let (addresses, announce) = AsyncStream<String>.makeStream()
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in announce.yield("http://127.0.0.1:\(channel.localAddress?.port ?? 0)") })
        let group = ServiceGroup(services: [app], logger: Logger(label: "local-server"))
        let running = Task { try await group.run() }
        var iterator = addresses.makeAsyncIterator()
        let url = try #require(await iterator.next())
        var failure: (any Error)?
        do {
            try await body(url)
        } catch {
            failure = error
        }
        await group.triggerGracefulShutdown()
        try await running.value
        if let failure { throw failure }
    }
}
