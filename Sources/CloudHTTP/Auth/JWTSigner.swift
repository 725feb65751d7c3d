import Crypto
import DeployerModel
import Foundation
import _CryptoExtras

/// Signs compact JWTs with RS256 (RSASSA-PKCS1-v1_5, SHA-256): Google service-account
/// assertions and Snowflake key-pair tokens. Header and claims are serialized with sorted keys
/// and no spaces, so the same inputs always give the same token.
public struct JWTSigner: Sendable {
    let key: _RSA.Signing.PrivateKey

    /// From a PEM private key (PKCS#8 `BEGIN PRIVATE KEY` or PKCS#1 `BEGIN RSA PRIVATE KEY`).
    public init(privateKeyPEM: String) throws {
        do {
            key = try _RSA.Signing.PrivateKey(pemRepresentation: privateKeyPEM)
        } catch {
            throw CredentialError("the private key is not a readable RSA PEM key of at least 2048 bits")
        }
    }

    /// `base64url(header).base64url(claims).base64url(signature)`.
    public func token(header: JSONValue, claims: JSONValue) throws -> String {
        let signed = Base64.encodeURLSafe(header.serialized()) + "." + Base64.encodeURLSafe(claims.serialized())
        let signature = try key.signature(for: SHA256.hash(data: Array(signed.utf8)), padding: .insecurePKCS1v1_5)
        return signed + "." + Base64.encodeURLSafe(signature.rawRepresentation)
    }

    /// `SHA256:` + base64 of the SHA-256 of the public key's DER SubjectPublicKeyInfo (Snowflake's
    /// `RSA_PUBLIC_KEY_FP`).
    public var publicKeyFingerprint: String {
        "SHA256:" + Base64.encode(SHA256.hash(data: key.publicKey.derRepresentation))
    }
}

/// A credential that cannot be used or obtained; never carries secret material.
public struct CredentialError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
