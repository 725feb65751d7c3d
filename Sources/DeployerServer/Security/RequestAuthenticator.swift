import CloudHTTP
import DeployerCore
import DeployerModel
import Foundation

/// Bearer JWTs from a company identity provider (OIDC), accepted beside our own tokens.
public struct ExternalIdentityProvider: Sendable {
    public let verifier: JWTVerifier
    public let keys: JWKSource
    /// The claim that names the user (`sub` unless set).
    public let userClaim: String
    /// The claim holding the user's groups, an array of strings (`groups` unless set).
    public let groupsClaim: String

    public init(verifier: JWTVerifier, keys: JWKSource, userClaim: String = "sub", groupsClaim: String = "groups") {
        self.verifier = verifier
        self.keys = keys
        self.userClaim = userClaim
        self.groupsClaim = groupsClaim
    }

    /// The user and groups of a valid token.
    func identify(_ token: String, now: Date) async throws -> (user: String, groups: [String]) {
        let keySet = try await keys.keys(for: JWTVerifier.keyID(of: token))
        let claims = try verifier.verify(token, keys: keySet, now: now)
        guard let user = claims[userClaim]?.stringValue, !user.isEmpty else { throw JWTError.malformed("no \(userClaim) claim") }
        return (user, claims[groupsClaim]?.arrayValue?.compactMap(\.stringValue) ?? [])
    }
}

/// Who sent a request: `Authorization: Bearer` with one of our tokens or, when a provider is
/// configured, a JWT it signed. Anything else is 401, with no hint of what was wrong.
public struct RequestAuthenticator: Sendable {
    public let identities: IdentityStore
    public let provider: ExternalIdentityProvider?
    /// Members of these groups are global admins.
    public let adminGroups: Set<String>
    private let now: @Sendable () -> Date

    public init(
        identities: IdentityStore, provider: ExternalIdentityProvider? = nil, adminGroups: Set<String> = Caller.defaultAdminGroups,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.identities = identities
        self.provider = provider
        self.adminGroups = adminGroups
        self.now = now
    }

    /// The caller behind an `Authorization` header, or 401.
    public func authenticate(_ header: String?) async throws -> Caller {
        guard let header, header.hasPrefix("Bearer ") else { throw APIError.unauthorized() }
        let token = String(header.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)
        if let found = identities.authenticate(token: token) {
            return Caller(user: found.user, groups: found.groups, adminGroups: adminGroups)
        }
        if let provider, token.split(separator: ".", omittingEmptySubsequences: false).count == 3,
            let found = try? await provider.identify(token, now: now())
        {
            return Caller(user: found.user, groups: found.groups, adminGroups: adminGroups)
        }
        throw APIError.unauthorized()
    }
}
