import Crypto
import DeployerModel
import Foundation
import _CryptoExtras

/// Why a token was refused. Servers answer every case with the same 401; the case is for logs
/// and tests.
public enum JWTError: Error, Equatable, CustomStringConvertible {
    case malformed(String)
    case unsupportedAlgorithm(String)
    case unknownKey(String?)
    case badSignature
    case expired
    case notYetValid
    case wrongIssuer
    case wrongAudience
    case missingScope(String)
    case invalidKeySet(String)

    public var description: String {
        switch self {
        case .malformed(let detail): "malformed token: \(detail)"
        case .unsupportedAlgorithm(let algorithm): "algorithm \"\(algorithm)\" is not accepted (RS256 or ES256)"
        case .unknownKey(let id): "no key \(id.map { "\"\($0)\"" } ?? "without id") in the key set"
        case .badSignature: "the signature does not verify"
        case .expired: "the token has expired"
        case .notYetValid: "the token is not valid yet"
        case .wrongIssuer: "the token's issuer is not the expected one"
        case .wrongAudience: "the token's audience is not the expected one"
        case .missingScope(let scope): "the token lacks scope \"\(scope)\""
        case .invalidKeySet(let detail): "invalid JWKS: \(detail)"
        }
    }
}

/// Checks compact-serialized JWTs (RFC 7519) signed with RS256 or ES256: the signature against
/// a key set, then `exp` (required), `nbf`, `iss`, `aud` and optionally a scope.
public struct JWTVerifier: Sendable {
    public var issuer: String
    /// When set, `aud` (a string or an array) must contain it.
    public var audience: String?
    /// When set, the `scope` claim (space-separated) or `scp` (array) must contain it.
    public var requiredScope: String?
    /// Tolerated clock difference.
    public var leeway: TimeInterval = 60

    public init(issuer: String, audience: String?, requiredScope: String? = nil) {
        self.issuer = issuer
        self.audience = audience
        self.requiredScope = requiredScope
    }

    /// The header's key id, read before verification to pick (or fetch) the key set.
    public static func keyID(of token: String) -> String? {
        guard let header = token.split(separator: ".", omittingEmptySubsequences: false).first,
            let bytes = Base64.decodeURLSafe(header), let json = try? JSONValue.parse(bytes)
        else { return nil }
        return json["kid"]?.stringValue
    }

    /// The token's claims once everything checks out.
    public func verify(_ token: String, keys: JSONWebKeySet, now: Date) throws -> JSONValue {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw JWTError.malformed("expected three dot-separated parts") }
        guard let headerBytes = Base64.decodeURLSafe(parts[0]), let header = try? JSONValue.parse(headerBytes),
            let payloadBytes = Base64.decodeURLSafe(parts[1]), let claims = try? JSONValue.parse(payloadBytes), claims.objectValue != nil,
            let signature = Base64.decodeURLSafe(parts[2])
        else { throw JWTError.malformed("a part is not base64url JSON") }
        let algorithm = header["alg"]?.stringValue ?? ""
        guard algorithm == "RS256" || algorithm == "ES256" else { throw JWTError.unsupportedAlgorithm(algorithm) }
        if let type = header["typ"]?.stringValue, type.uppercased() != "JWT", type.lowercased() != "at+jwt" {
            throw JWTError.malformed("typ \"\(type)\"")
        }
        let keyID = header["kid"]?.stringValue
        let candidates = keys.candidates(algorithm: algorithm, keyID: keyID)
        guard !candidates.isEmpty else { throw JWTError.unknownKey(keyID) }
        let signed = Array(parts[0].utf8) + [UInt8(ascii: ".")] + Array(parts[1].utf8)
        guard candidates.contains(where: { Self.verifies(signature, of: signed, with: $0) }) else { throw JWTError.badSignature }
        try checkClaims(claims, now: now)
        return claims
    }

    private func checkClaims(_ claims: JSONValue, now: Date) throws {
        let time = now.timeIntervalSince1970
        guard let expires = claims["exp"]?.doubleValue else { throw JWTError.malformed("no exp claim") }
        guard time < expires + leeway else { throw JWTError.expired }
        if let notBefore = claims["nbf"]?.doubleValue, time + leeway < notBefore { throw JWTError.notYetValid }
        guard claims["iss"]?.stringValue == issuer else { throw JWTError.wrongIssuer }
        if let audience {
            let audiences = claims["aud"]?.arrayValue?.compactMap(\.stringValue) ?? claims["aud"]?.stringValue.map { [$0] } ?? []
            guard audiences.contains(audience) else { throw JWTError.wrongAudience }
        }
        if let requiredScope {
            let scopes =
                claims["scope"]?.stringValue.map { $0.split(separator: " ").map(String.init) }
                ?? claims["scp"]?.arrayValue?.compactMap(\.stringValue) ?? []
            guard scopes.contains(requiredScope) else { throw JWTError.missingScope(requiredScope) }
        }
    }

    private static func verifies(_ signature: [UInt8], of signed: [UInt8], with key: JSONWebKeySet.Key) -> Bool {
        switch key.material {
        case .rsa(let publicKey):
            return publicKey.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature), for: SHA256.hash(data: signed), padding: .insecurePKCS1v1_5)
        case .p256(let publicKey):
            guard let parsed = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
            return publicKey.isValidSignature(parsed, for: signed)
        }
    }
}
