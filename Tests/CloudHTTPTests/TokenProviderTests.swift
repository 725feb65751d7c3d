import AsyncHTTPClient
import DeployerModel
import Foundation
import Hummingbird
import PlatformTesting
import Testing
import _CryptoExtras

@testable import CloudHTTP

/// RS256 JWTs byte for byte against Python's cryptography, and the Google, Azure and Snowflake
/// token providers against a local token endpoint: what they send, caching, refresh before
/// expiry, and refusals that never show a secret.
@Suite struct TokenProviderTests {
    final class Clock: @unchecked Sendable {
        private let lock = NSLock()
        private var current = Date(timeIntervalSince1970: 1_900_000_000)
        var now: Date { lock.withLock { current } }
        func advance(_ seconds: TimeInterval) { lock.withLock { current += seconds } }
    }

    static let key = try! _RSA.Signing.PrivateKey(keySize: .bits2048)

    @Test func rs256TokensAndTheFingerprintMatchPythonsCryptography() throws {
        let signer = try JWTSigner(privateKeyPEM: Self.key.pemRepresentation)
        let header: JSONValue = ["alg": "RS256", "typ": "JWT", "kid": "k1"]
        let claims: JSONValue = [
            "iss": "deployer@my-proj.iam.gserviceaccount.com", "scope": "https://www.googleapis.com/auth/cloud-platform",
            "aud": "https://oauth2.googleapis.com/token", "iat": 1_735_732_800, "exp": 1_735_736_400,
        ]
        let request: JSONValue = ["pem": .string(Self.key.pemRepresentation), "header": header, "claims": claims]
        let lines = try CloudPeers.run("cryptography_rs256.py", [], input: String(decoding: request.serialized(), as: UTF8.self))
            .split(separator: "\n").map(String.init)
        #expect(try signer.token(header: header, claims: claims) == lines.first)
        #expect(signer.publicKeyFingerprint == lines.last)
    }

    @Test func googleAssertionsAreTradedForCachedTokensRefreshedBeforeExpiry() async throws {
        let clock = Clock()
        let start = clock.now
        let keyJSON: JSONValue = [
            "type": "service_account", "client_email": "deployer@p.iam.gserviceaccount.com", "private_key_id": "k1",
            "private_key": .string(Self.key.pemRepresentation), "token_uri": "https://oauth2.googleapis.com/token",
        ]
        try await Self.withTokenEndpoint { url, endpoint in
            let account = try GoogleServiceAccount(keyJSON: String(decoding: keyJSON.serialized(), as: UTF8.self), tokenURLOverride: url + "/token")
            let tokens = account.tokens(scope: "https://www.googleapis.com/auth/cloud-platform", http: .shared, now: { clock.now })
            #expect(try await tokens.token() == "token-1")
            #expect(try await tokens.token() == "token-1", "cached")
            clock.advance(3599 - 299)
            #expect(try await tokens.token() == "token-2", "refreshed five minutes before expiry")
            let form = try #require(endpoint.requests.first)
            #expect(form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer")
            let primitives = try Self.key.publicKey.getKeyPrimitives()
            let jwks: JSONValue = [
                "keys": [["kty": "RSA", "kid": "k1", "n": .string(Base64.encodeURLSafe(primitives.modulus)), "e": .string(Base64.encodeURLSafe(primitives.publicExponent))]]
            ]
            let verified = try JWTVerifier(issuer: "deployer@p.iam.gserviceaccount.com", audience: url + "/token")
                .verify(form["assertion"] ?? "", keys: JSONWebKeySet(json: jwks.serialized()), now: start)
            #expect(verified["scope"] == "https://www.googleapis.com/auth/cloud-platform")
            #expect(verified["exp"]?.intValue == Int64(start.timeIntervalSince1970) + 3600)

            endpoint.refuse(status: 400, ["error": "invalid_grant", "error_description": "Invalid JWT Signature."])
            clock.advance(3600)
            let refusal = await #expect(throws: CredentialError.self) { try await tokens.token() }
            #expect(refusal?.description.contains("invalid_grant: Invalid JWT Signature.") == true)
            #expect(refusal?.description.contains("PRIVATE KEY") == false)
        }
    }

    @Test func azureClientCredentialsAreSentAsTheFormAndNeverShown() async throws {
        let clock = Clock()
        try await Self.withTokenEndpoint { url, endpoint in
            let credentials = AzureClientCredentials(tenant: "tenant-1", clientID: "app-1", clientSecret: "s3cr3t-value", authorityOverride: url)
            let tokens = credentials.tokens(scope: "https://management.azure.com/.default", http: .shared, now: { clock.now })
            #expect(try await tokens.token() == "token-1")
            #expect(try await tokens.token() == "token-1")
            let form = try #require(endpoint.requests.first)
            #expect(endpoint.paths == ["/tenant-1/oauth2/v2.0/token"])
            #expect(form == [
                "client_id": "app-1", "scope": "https://management.azure.com/.default", "client_secret": "s3cr3t-value",
                "grant_type": "client_credentials",
            ])
            #expect(!"\(credentials)".contains("s3cr3t"))
            endpoint.refuse(status: 401, ["error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."])
            await tokens.invalidate()
            let refusal = await #expect(throws: CredentialError.self) { try await tokens.token() }
            #expect(refusal?.description.contains("invalid_client") == true && refusal?.description.contains("s3cr3t") == false)
        }
    }

    @Test func snowflakeTokensNameTheAccountAndKeyAsSnowflakeExpects() throws {
        let pair = try SnowflakeKeyPair(account: "xy12345.us-east-1", user: "deployer", privateKeyPEM: Self.key.pemRepresentation)
        #expect(pair.subject == "XY12345.DEPLOYER")
        #expect(try SnowflakeKeyPair(account: "myorg-myaccount", user: "ci", privateKeyPEM: Self.key.pemRepresentation).subject == "MYORG-MYACCOUNT.CI")
        let now = Date(timeIntervalSince1970: 1_900_000_000)
        let parts = try pair.token(now: now).split(separator: ".")
        let claims = try JSONValue.parse(Base64.decodeURLSafe(parts[1]) ?? [])
        let fingerprint = try JWTSigner(privateKeyPEM: Self.key.pemRepresentation).publicKeyFingerprint
        #expect(claims["iss"]?.stringValue == "XY12345.DEPLOYER.\(fingerprint)" && claims["sub"] == "XY12345.DEPLOYER")
        #expect(claims["exp"]?.intValue == 1_900_003_600)
        #expect(fingerprint.hasPrefix("SHA256:") && fingerprint.hasSuffix("="), "standard base64 with padding")
    }

    // MARK: - A local token endpoint

    /// Answers `access_token` `token-N` (expires in 3599 s) to each request, or a refusal once
    /// told to; records the forms it received.
    final class TokenEndpoint: @unchecked Sendable {
        private let lock = NSLock()
        private var forms: [[String: String]] = []
        private var requestPaths: [String] = []
        private var refusal: (Int, JSONValue)?

        var requests: [[String: String]] { lock.withLock { forms } }
        var paths: [String] { lock.withLock { requestPaths } }

        func refuse(status: Int, _ body: JSONValue) { lock.withLock { refusal = (status, body) } }

        func answer(path: String, body: String) -> (Int, JSONValue) {
            var form: [String: String] = [:]
            for pair in body.split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
                form[parts[0]] = parts.count > 1 ? parts[1] : ""
            }
            return lock.withLock {
                forms.append(form)
                requestPaths.append(path)
                if let refusal { return refusal }
                return (200, ["access_token": .string("token-\(forms.count)"), "expires_in": 3599, "token_type": "Bearer"])
            }
        }
    }

    static func withTokenEndpoint(_ body: (String, TokenEndpoint) async throws -> Void) async throws {
        let endpoint = TokenEndpoint()
        let router = Router()
        router.post("**") { request, _ -> Response in
            let text = String(buffer: try await request.body.collect(upTo: 1 << 20))
            let (status, answer) = endpoint.answer(path: request.uri.path, body: text)
            return Response(
                status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: answer.serialized())))
        }
        try await FakeHTTPServer.with(responder: router.buildResponder()) { url in try await body(url, endpoint) }
    }
}
