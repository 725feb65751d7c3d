@preconcurrency import Crypto
import DeployerModel
import Foundation
import _CryptoExtras

/// An identity provider for tests: an RSA and a P-256 key, their JWKS, and tokens signed
/// with them — or deliberately wrong (other algorithms, unknown key ids, bad claims).
public struct TestTokenIssuer: Sendable {
    public let issuer: String
    public let rsaKeyID = "rsa-1"
    public let ecKeyID = "ec-1"
    private let rsa: _RSA.Signing.PrivateKey
    private let ec: P256.Signing.PrivateKey

    public init(issuer: String = "https://idp.test") throws {
        self.issuer = issuer
        rsa = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        ec = P256.Signing.PrivateKey()
    }

    /// The public keys as a JWKS document.
    public func jwks() throws -> [UInt8] {
        let primitives = try rsa.publicKey.getKeyPrimitives()
        let raw = Array(ec.publicKey.rawRepresentation)
        let keys: JSONValue = [
            "keys": [
                [
                    "kty": "RSA", "kid": .string(rsaKeyID), "use": "sig", "alg": "RS256",
                    "n": .string(Base64.encodeURLSafe(primitives.modulus)), "e": .string(Base64.encodeURLSafe(primitives.publicExponent)),
                ],
                [
                    "kty": "EC", "kid": .string(ecKeyID), "crv": "P-256", "use": "sig",
                    "x": .string(Base64.encodeURLSafe(raw.prefix(32))), "y": .string(Base64.encodeURLSafe(raw.suffix(32))),
                ],
            ]
        ]
        return keys.serialized()
    }

    /// Claims valid for an hour from `now`, for `subject` in `groups`, with `overrides` applied
    /// (a `.null` override removes the claim).
    public func claims(subject: String, groups: [String] = [], audience: String = "apideployer", now: Date = Date(), overrides: JSONValue = [:])
        -> JSONValue
    {
        var claims: JSONValue = [
            "iss": .string(issuer), "sub": .string(subject), "aud": .string(audience), "groups": .array(groups.map(JSONValue.string)),
            "iat": .int(Int64(now.timeIntervalSince1970)), "exp": .int(Int64(now.timeIntervalSince1970) + 3600),
        ]
        for (key, value) in overrides.objectValue ?? [:] { claims[key] = value == .null ? nil : value }
        return claims
    }

    /// How a test token is signed.
    public enum Signing: Sendable {
        case rs256, es256
        /// `alg: none`, no signature.
        case none
        /// HS256 with the RSA public key's PEM as the HMAC secret (the classic confusion attack).
        case hs256WithPublicKey
    }

    /// Tokens every verifier must refuse, by name: expired, wrong audience, wrong issuer, not
    /// yet valid, no expiry, `alg: none`, HS256 signed with the RSA public key, unknown `kid`,
    /// ES256 under the RSA key's id, tampered claims.
    public func negativeCases(audience: String = "apideployer") throws -> [(name: String, token: String)] {
        let now = Date()
        let valid = claims(subject: "carol", audience: audience, now: now)
        var tampered = try token(valid).split(separator: ".").map(String.init)
        tampered[1] = Base64.encodeURLSafe(claims(subject: "root", groups: ["system:masters"], audience: audience).serialized())
        let later = JSONValue.int(Int64(now.timeIntervalSince1970) + 600)
        return [
            ("expired", try token(claims(subject: "carol", audience: audience, now: now - 7200))),
            ("wrong audience", try token(claims(subject: "carol", audience: "someone-else", now: now))),
            ("wrong issuer", try token(claims(subject: "carol", audience: audience, now: now, overrides: ["iss": "https://evil.test"]))),
            ("not yet valid", try token(claims(subject: "carol", audience: audience, now: now, overrides: ["nbf": later]))),
            ("no expiry", try token(claims(subject: "carol", audience: audience, now: now, overrides: ["exp": .null]))),
            ("alg none", try token(valid, signing: .none)),
            ("HS256 with the public key", try token(valid, signing: .hs256WithPublicKey)),
            ("unknown kid", try token(valid, keyID: "rotated-away")),
            ("ES256 under the RSA key's id", try token(valid, signing: .es256, keyID: rsaKeyID)),
            ("tampered claims", tampered.joined(separator: ".")),
        ]
    }

    /// A compact JWT.
    public func token(_ claims: JSONValue, signing: Signing = .rs256, keyID: String? = nil) throws -> String {
        let algorithm: String
        let defaultKeyID: String?
        switch signing {
        case .rs256: (algorithm, defaultKeyID) = ("RS256", rsaKeyID)
        case .es256: (algorithm, defaultKeyID) = ("ES256", ecKeyID)
        case .none: (algorithm, defaultKeyID) = ("none", nil)
        case .hs256WithPublicKey: (algorithm, defaultKeyID) = ("HS256", rsaKeyID)
        }
        var header: JSONValue = ["alg": .string(algorithm), "typ": "JWT"]
        if let kid = keyID ?? defaultKeyID { header["kid"] = .string(kid) }
        let signed = Base64.encodeURLSafe(header.serialized()) + "." + Base64.encodeURLSafe(claims.serialized())
        let data = Array(signed.utf8)
        let signature: [UInt8]
        switch signing {
        case .rs256: signature = Array(try rsa.signature(for: SHA256.hash(data: data), padding: .insecurePKCS1v1_5).rawRepresentation)
        case .es256: signature = Array(try ec.signature(for: data).rawRepresentation)
        case .none: signature = []
        case .hs256WithPublicKey:
            let secret = SymmetricKey(data: Array(rsa.publicKey.pemRepresentation.utf8))
            signature = Array(HMAC<SHA256>.authenticationCode(for: data, using: secret))
        }
        return signed + "." + Base64.encodeURLSafe(signature)
    }
}
