import AsyncHTTPClient
import Foundation

/// Where a JWKS comes from: a file (read again when it changes) or an HTTPS URL (cached for
/// `cacheLifetime`, fetched again early when a token names an unknown key, at most once per
/// `refreshInterval`, so a flood of bad tokens cannot turn into a flood of fetches).
public actor JWKSource {
    public enum Location: Sendable, Equatable {
        case file(String)
        case url(String)

        /// A path or an `http(s)://` URL.
        public init(_ text: String) {
            self = text.hasPrefix("https://") || text.hasPrefix("http://") ? .url(text) : .file(text)
        }
    }

    public let location: Location
    private let http: HTTPClient?
    private let cacheLifetime: Duration
    private let refreshInterval: Duration
    private var cached: (keys: JSONWebKeySet, at: ContinuousClock.Instant, fileStamp: Date?)?

    public init(_ location: Location, http: HTTPClient?, cacheLifetime: Duration = .seconds(300), refreshInterval: Duration = .seconds(30)) {
        self.location = location
        self.http = http
        self.cacheLifetime = cacheLifetime
        self.refreshInterval = refreshInterval
    }

    /// The key set to check a token whose header names `keyID`.
    public func keys(for keyID: String?) async throws -> JSONWebKeySet {
        let now = ContinuousClock.now
        switch location {
        case .file(let path):
            let stamp = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate]) as? Date
            if let cached, cached.fileStamp == stamp { return cached.keys }
            guard let data = FileManager.default.contents(atPath: path) else { throw JWTError.invalidKeySet("cannot read \(path)") }
            let keys = try JSONWebKeySet(json: Array(data))
            cached = (keys, now, stamp)
            return keys
        case .url(let url):
            if let cached {
                let fresh = now - cached.at < cacheLifetime
                let knowsKey = keyID == nil || cached.keys.keys.contains { $0.id == keyID }
                if fresh && (knowsKey || now - cached.at < refreshInterval) { return cached.keys }
            }
            let keys = try await fetch(url)
            cached = (keys, now, nil)
            return keys
        }
    }

    private func fetch(_ url: String) async throws -> JSONWebKeySet {
        guard let http else { throw JWTError.invalidKeySet("no HTTP client to fetch \(url)") }
        let response = try await http.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
        guard response.status.code == 200 else { throw JWTError.invalidKeySet("\(url) answered \(response.status.code)") }
        let body = try await response.body.collect(upTo: 1 << 20)
        return try JSONWebKeySet(json: Array(body.readableBytesView))
    }
}
