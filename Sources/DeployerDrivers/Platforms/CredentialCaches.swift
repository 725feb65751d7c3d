import AsyncHTTPClient
import CloudHTTP
import Crypto
import DeployerModel
import Foundation

/// One value per set of credentials, kept across reconciles: an access-token cache (a token is
/// fetched once and refreshed before it expires, not fetched for every call), a cluster's
/// client. Keyed by a digest of the credentials (never the credentials themselves).
final class CredentialCaches<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var caches: [String: Value] = [:]

    func cache(for credentials: [String], make: () throws -> Value) rethrows -> Value {
        let key = SHA256.hash(data: Data(credentials.joined(separator: "\u{0}").utf8)).hexString
        return try lock.withLock {
            if let cache = caches[key] { return cache }
            let cache = try make()
            caches[key] = cache
            return cache
        }
    }
}

/// What every platform driver works with: the HTTP client, the clock tokens are signed with, the
/// pause between retries (injected by tests), and its token caches.
struct PlatformSession: Sendable {
    let http: HTTPClient
    let now: @Sendable () -> Date
    let pause: @Sendable (Duration) async throws -> Void
    let tokens = CredentialCaches<AccessTokenCache>()
}
