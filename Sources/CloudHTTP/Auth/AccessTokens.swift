import AsyncHTTPClient
import DeployerModel
import Foundation
import NIOCore

/// A bearer token and when it stops being valid.
public struct AccessToken: Sendable, Equatable {
    public let value: String
    public let expires: Date

    public init(value: String, expires: Date) {
        self.value = value
        self.expires = expires
    }
}

/// Keeps one access token and gets a new one when less than `refreshMargin` of its life is
/// left, so no request leaves with a token about to expire. Concurrent callers share one fetch.
public actor AccessTokenCache {
    public typealias Fetch = @Sendable (_ now: Date) async throws -> AccessToken
    private let fetch: Fetch
    private let now: @Sendable () -> Date
    private let refreshMargin: TimeInterval
    private var current: AccessToken?
    private var inFlight: Task<AccessToken, any Error>?

    public init(refreshMargin: TimeInterval = 300, now: @escaping @Sendable () -> Date = Date.init, fetch: @escaping Fetch) {
        self.fetch = fetch
        self.now = now
        self.refreshMargin = refreshMargin
    }

    /// A token valid for at least the refresh margin.
    public func token() async throws -> String {
        let time = now()
        if let current, current.expires.timeIntervalSince(time) > refreshMargin { return current.value }
        if let inFlight { return try await inFlight.value.value }
        let task = Task { [fetch] in try await fetch(time) }
        inFlight = task
        defer { inFlight = nil }
        let fresh = try await task.value
        current = fresh
        return fresh.value
    }

    /// Forgets the token (after a 401 that says it was revoked).
    public func invalidate() {
        current = nil
    }
}

/// OAuth2 token endpoints (`application/x-www-form-urlencoded` in, `access_token` and
/// `expires_in` out). Errors carry the endpoint's `error` and `error_description`, never what was
/// sent.
enum OAuthTokenEndpoint {
    static func request(_ url: String, form: [(String, String)], http: HTTPClient, now: Date) async throws -> AccessToken {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        let body = form.map { PercentEncoding.unreserved($0.0) + "=" + PercentEncoding.unreserved($0.1) }.joined(separator: "&")
        request.body = .bytes(ByteBuffer(string: body))
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await http.execute(request, timeout: .seconds(30))
            bytes = try await response.body.collect(upTo: 1 << 20)
        } catch {
            throw CredentialError("the token endpoint \(url) did not answer: \(error)")
        }
        let answer = (try? JSONValue.parse(Array(bytes.readableBytesView))) ?? .null
        guard response.status.code == 200, let token = answer["access_token"]?.stringValue, !token.isEmpty else {
            let reason = [answer["error"]?.stringValue, answer["error_description"]?.stringValue].compactMap { $0 }.joined(separator: ": ")
            throw CredentialError("the token endpoint \(url) answered \(response.status.code)\(reason.isEmpty ? "" : ": " + reason)")
        }
        let lifetime = answer["expires_in"]?.doubleValue ?? answer["expires_in"]?.stringValue.flatMap(Double.init) ?? 3600
        return AccessToken(value: token, expires: now.addingTimeInterval(lifetime))
    }
}

/// Google: a service-account key signs an assertion (RFC 7523) that the token endpoint trades
/// for an access token.
public struct GoogleServiceAccount: Sendable {
    public let email: String
    let keyID: String?
    let signer: JWTSigner
    /// The token endpoint (the key's `token_uri`, or an override for tests).
    public let tokenURL: String

    /// From the service-account key JSON.
    public init(keyJSON: String, tokenURLOverride: String? = nil) throws {
        guard let key = try? JSONValue.parse(Array(keyJSON.utf8)), let email = key["client_email"]?.stringValue,
            let pem = key["private_key"]?.stringValue
        else { throw CredentialError("the service-account key needs client_email and private_key") }
        self.email = email
        keyID = key["private_key_id"]?.stringValue
        signer = try JWTSigner(privateKeyPEM: pem)
        tokenURL = tokenURLOverride ?? key["token_uri"]?.stringValue ?? "https://oauth2.googleapis.com/token"
    }

    /// The signed assertion for `scope`, valid one hour from `now`.
    public func assertion(scope: String, now: Date) throws -> String {
        var header: JSONValue = ["alg": "RS256", "typ": "JWT"]
        if let keyID { header["kid"] = .string(keyID) }
        let issued = Int64(now.timeIntervalSince1970)
        return try signer.token(
            header: header,
            claims: ["iss": .string(email), "scope": .string(scope), "aud": .string(tokenURL), "iat": .int(issued), "exp": .int(issued + 3600)])
    }

    /// A cache of access tokens for `scope` (`https://www.googleapis.com/auth/cloud-platform`).
    public func tokens(scope: String, http: HTTPClient, now: @escaping @Sendable () -> Date = Date.init) -> AccessTokenCache {
        AccessTokenCache(now: now) { time in
            try await OAuthTokenEndpoint.request(
                tokenURL, form: [("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", try assertion(scope: scope, now: time))],
                http: http, now: time)
        }
    }
}

/// Azure: Microsoft Entra ID client credentials (an app's id and secret) for a scope such as
/// `https://management.azure.com/.default`.
public struct AzureClientCredentials: Sendable, CustomStringConvertible {
    public let tenant: String
    public let clientID: String
    let clientSecret: String
    /// `https://login.microsoftonline.com` unless overridden (tests, sovereign clouds).
    public let authority: String

    public init(tenant: String, clientID: String, clientSecret: String, authorityOverride: String? = nil) {
        self.tenant = tenant
        self.clientID = clientID
        self.clientSecret = clientSecret
        authority = authorityOverride ?? "https://login.microsoftonline.com"
    }

    public var description: String { "Azure client \(clientID) of tenant \(tenant) (secret redacted)" }

    public func tokens(scope: String, http: HTTPClient, now: @escaping @Sendable () -> Date = Date.init) -> AccessTokenCache {
        let url = "\(authority)/\(tenant)/oauth2/v2.0/token"
        let form = [("client_id", clientID), ("scope", scope), ("client_secret", clientSecret), ("grant_type", "client_credentials")]
        return AccessTokenCache(now: now) { time in try await OAuthTokenEndpoint.request(url, form: form, http: http, now: time) }
    }
}

/// Snowflake: key-pair JWTs for the SQL API, signed locally (no token endpoint).
public struct SnowflakeKeyPair: Sendable {
    /// `ACCOUNT.USER`, upper-case, the account without region or cloud.
    public let subject: String
    let signer: JWTSigner

    public init(account: String, user: String, privateKeyPEM: String) throws {
        let accountPart = account.contains(".global") ? account.split(separator: "-").first : account.split(separator: ".").first
        subject = "\(accountPart.map(String.init) ?? account).\(user)".uppercased()
        signer = try JWTSigner(privateKeyPEM: privateKeyPEM)
    }

    /// `iss = ACCOUNT.USER.SHA256:fingerprint`, `sub = ACCOUNT.USER`, valid one hour.
    public func token(now: Date) throws -> String {
        let issued = Int64(now.timeIntervalSince1970)
        return try signer.token(
            header: ["alg": "RS256", "typ": "JWT"],
            claims: [
                "iss": .string("\(subject).\(signer.publicKeyFingerprint)"), "sub": .string(subject), "iat": .int(issued),
                "exp": .int(issued + 3600),
            ])
    }

    /// Tokens reused until five minutes before they expire.
    public func tokens(now: @escaping @Sendable () -> Date = Date.init) -> AccessTokenCache {
        AccessTokenCache(now: now) { time in AccessToken(value: try token(now: time), expires: time.addingTimeInterval(3600)) }
    }
}
