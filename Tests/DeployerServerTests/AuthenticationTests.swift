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
        FileManager.default.createFile(atPath: jwks, contents: Data(try issuer.jwks()))
        let provider = ExternalIdentityProvider(
            verifier: JWTVerifier(issuer: issuer.issuer, audience: "apideployer"), keys: JWKSource(.file(jwks), http: nil))
        let harness = try await APITestHarness(provider: provider)

        let whoami = try harness.json(
            await harness.send("GET", "/identity/v1/whoami", token: try issuer.token(issuer.claims(subject: "carol", groups: ["data-scientists"]))))
        #expect(whoami["user"] == "carol")
        #expect(whoami["groups"]?.arrayValue?.contains("data-scientists") == true)
        let elliptic = try issuer.token(issuer.claims(subject: "dave"), signing: .es256)
        #expect(await harness.send("GET", Self.services, token: elliptic).status == 200)

        for (name, token, reason) in try Self.negativeCases(issuer) {
            #expect(await harness.send("GET", Self.services, token: token).status == 401, "\(name)")
            let keys = try JSONWebKeySet(json: try issuer.jwks())
            #expect(throws: reason, "\(name)") { try provider.verifier.verify(token, keys: keys, now: Date()) }
        }
    }

    /// Each case with the reason the verifier must give.
    static func negativeCases(_ issuer: TestTokenIssuer) throws -> [(String, String, JWTError)] {
        let now = Date()
        var tampered = try issuer.token(issuer.claims(subject: "carol")).split(separator: ".").map(String.init)
        tampered[1] = Base64.encodeURLSafe(issuer.claims(subject: "root", groups: ["system:masters"]).serialized())
        return [
            ("expired", try issuer.token(issuer.claims(subject: "carol", now: now - 7200)), .expired),
            ("wrong audience", try issuer.token(issuer.claims(subject: "carol", audience: "someone-else")), .wrongAudience),
            ("wrong issuer", try issuer.token(issuer.claims(subject: "carol", overrides: ["iss": "https://evil.test"])), .wrongIssuer),
            ("not yet valid", try issuer.token(issuer.claims(subject: "carol", overrides: ["nbf": .int(Int64(now.timeIntervalSince1970) + 600)])), .notYetValid),
            ("no expiry", try issuer.token(issuer.claims(subject: "carol", overrides: ["exp": .null])), .malformed("no exp claim")),
            ("alg none", try issuer.token(issuer.claims(subject: "carol"), signing: .none), .unsupportedAlgorithm("none")),
            ("HS256 with the public key", try issuer.token(issuer.claims(subject: "carol"), signing: .hs256WithPublicKey), .unsupportedAlgorithm("HS256")),
            ("unknown kid", try issuer.token(issuer.claims(subject: "carol"), keyID: "rotated-away"), .unknownKey("rotated-away")),
            ("ES256 under the RSA key's id", try issuer.token(issuer.claims(subject: "carol"), signing: .es256, keyID: issuer.rsaKeyID), .unknownKey(issuer.rsaKeyID)),
            ("tampered claims", tampered.joined(separator: "."), .badSignature),
        ]
    }
}
