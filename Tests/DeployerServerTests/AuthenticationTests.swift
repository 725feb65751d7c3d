import CloudHTTP
import DeployerCore
import DeployerModel
import DeployerServer
import DeployerTesting
import Foundation
import Testing

/// Our tokens (wrong, expired, revoked, of a deleted user) and an identity provider's JWTs,
/// each negative case refused with the same 401.
@Suite struct AuthenticationTests {
    static let services = "/apis/apideployer.dev/v1alpha1/namespaces/default/publishedservices"

    final class Clock: @unchecked Sendable {
        private let lock = NSLock()
        private var current = Date(timeIntervalSince1970: 1_900_000_000)
        var now: Date { lock.withLock { current } }
        func advance(_ seconds: TimeInterval) { lock.withLock { current += seconds } }
    }

    @Test func tokensThatAreWrongExpiredRevokedOrOfADeletedUserAreRefused() async throws {
        let clock = Clock()
        let harness = try await APITestHarness(now: { clock.now })
        try harness.identities.createUser("ci", groups: ["ci"])
        let lasting = try harness.identities.createToken(user: "ci", groups: [], expires: nil, description: nil)
        let brief = try harness.identities.createToken(user: "ci", groups: ["extra"], expires: clock.now + 60, description: nil)
        let revoked = try harness.identities.createToken(user: "ci", groups: [], expires: nil, description: nil)
        try harness.identities.revokeToken(revoked.token.id)
        #expect(await harness.send("GET", Self.services, token: lasting.secret).status == 200)
        #expect(await harness.send("GET", Self.services, token: brief.secret).status == 200)
        #expect(await harness.send("GET", Self.services, token: revoked.secret).status == 401)
        #expect(await harness.send("GET", Self.services, token: lasting.secret + "x").status == 401)
        #expect(await harness.send("GET", Self.services, token: "").status == 401)
        clock.advance(61)
        #expect(await harness.send("GET", Self.services, token: brief.secret).status == 401, "expired")
        try harness.identities.deleteUser("ci")
        #expect(await harness.send("GET", Self.services, token: lasting.secret).status == 401, "the user is gone")
        #expect(harness.identities.tokens.allSatisfy { !$0.sha256.contains(lasting.secret) }, "only hashes are kept")
    }

    @Test func identitiesAreManagedByGlobalAdminsOnly() async throws {
        let harness = try await APITestHarness()
        let created = try harness.json(await harness.send("POST", "/identity/v1/tokens", body: ["user": "admin", "groups": ["ops"]]))
        let secret = try #require(created["secret"]?.stringValue)
        #expect(created["sha256"] == nil)
        try harness.identities.createUser("bob", groups: [])
        let bob = try harness.identities.createToken(user: "bob", groups: [], expires: nil, description: nil).secret
        #expect(await harness.send("GET", "/identity/v1/tokens", token: bob).status == 403)
        #expect(await harness.send("POST", "/identity/v1/users", body: ["name": "eve", "groups": ["system:masters"]], token: bob).status == 403)
        let whoami = try harness.json(await harness.send("GET", "/identity/v1/whoami", token: bob))
        #expect(whoami["user"] == "bob" && whoami["globalAdmin"] == false)
        let listed = try harness.json(await harness.send("GET", "/identity/v1/tokens"))
        #expect(!String(decoding: listed.serialized(), as: UTF8.self).contains(secret), "a listing never holds a secret")
        #expect(await harness.send("DELETE", "/identity/v1/tokens/\(created["id"]?.stringValue ?? "")").status == 200)
        #expect(await harness.send("GET", Self.services, token: secret).status == 401)
        #expect(await harness.send("POST", "/identity/v1/users", body: ["name": "bad name"]).status == 400)
    }

    @Test func identityProviderTokensAreAcceptedAndEveryNegativeCaseRefused() async throws {
        let issuer = try TestTokenIssuer()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("jwks-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let jwks = directory.appendingPathComponent("jwks.json").path
        try Data(try issuer.jwks()).write(to: URL(fileURLWithPath: jwks))
        let provider = ExternalIdentityProvider(
            verifier: JWTVerifier(issuer: issuer.issuer, audience: "apideployer"), keys: JWKSource(.file(jwks), http: nil))
        let harness = try await APITestHarness(provider: provider)

        let whoami = try harness.json(
            await harness.send("GET", "/identity/v1/whoami", token: try issuer.token(issuer.claims(subject: "carol", groups: ["data-scientists"]))))
        #expect(whoami["user"] == "carol")
        #expect(whoami["groups"]?.arrayValue?.contains("data-scientists") == true)
        let elliptic = try issuer.token(issuer.claims(subject: "dave"), signing: .es256)
        #expect(await harness.send("GET", Self.services, token: elliptic).status == 200)

        let keys = try JSONWebKeySet(json: try issuer.jwks())
        let cases = try issuer.negativeCases()
        #expect(cases.count == Self.reasons.count)
        for (name, token) in cases {
            #expect(await harness.send("GET", Self.services, token: token).status == 401, "\(name)")
            let reason = try #require(Self.reasons[name], "\(name)")
            #expect(throws: reason, "\(name)") { try provider.verifier.verify(token, keys: keys, now: Date()) }
        }
    }

    /// The reason the verifier must give for each of `TestTokenIssuer.negativeCases`.
    static let reasons: [String: JWTError] = [
        "expired": .expired, "wrong audience": .wrongAudience, "wrong issuer": .wrongIssuer, "not yet valid": .notYetValid,
        "no expiry": .malformed("no exp claim"), "alg none": .unsupportedAlgorithm("none"), "HS256 with the public key": .unsupportedAlgorithm("HS256"),
        "unknown kid": .unknownKey("rotated-away"), "ES256 under the RSA key's id": .unknownKey("rsa-1"), "tampered claims": .badSignature,
    ]
}
