import ArgumentParser
import AsyncHTTPClient
import CloudHTTP
import DeployerCore
import DeployerServer

/// Who `serve` accepts besides its own tokens (an OIDC identity provider's JWTs) and who is a
/// global admin.
struct IdentityOptions: ParsableArguments {
    @Option(help: "Issuer (iss) of the identity provider's JWTs; enables them.")
    var oidcIssuer: String?

    @Option(help: "Audience (aud) the JWTs must name.")
    var oidcAudience: String?

    @Option(help: "The provider's JWKS: a file (read again when it changes) or an https URL (cached).")
    var oidcJwks: String?

    @Option(help: "Claim that names the user.")
    var oidcUserClaim = "sub"

    @Option(help: "Claim that lists the user's groups.")
    var oidcGroupsClaim = "groups"

    @Option(name: .customLong("admin-group"), help: "A group whose members are global admins (repeatable; default system:masters).")
    var adminGroups: [String] = []

    func validate() throws {
        if (oidcIssuer == nil) != (oidcJwks == nil) { throw ValidationError("--oidc-issuer and --oidc-jwks go together") }
        if oidcIssuer == nil, oidcAudience != nil { throw ValidationError("--oidc-audience needs --oidc-issuer") }
    }

    /// The provider, when one is configured.
    var provider: ExternalIdentityProvider? {
        guard let oidcIssuer, let oidcJwks else { return nil }
        return ExternalIdentityProvider(
            verifier: JWTVerifier(issuer: oidcIssuer, audience: oidcAudience), keys: JWKSource(.init(oidcJwks), http: .shared),
            userClaim: oidcUserClaim, groupsClaim: oidcGroupsClaim)
    }

    var adminGroupSet: Set<String> { adminGroups.isEmpty ? Caller.defaultAdminGroups : Set(adminGroups) }
}
