@preconcurrency import Crypto
import DeployerModel
import _CryptoExtras

/// The public keys of a JSON Web Key Set (RFC 7517) that can check RS256 and ES256
/// signatures; other keys in the set are skipped.
public struct JSONWebKeySet: Sendable {
    /// One usable key.
    public struct Key: Sendable {
        public enum Material: Sendable {
            case rsa(_RSA.Signing.PublicKey)
            case p256(P256.Signing.PublicKey)
        }

        public let id: String?
        /// The algorithm this key may be used with (RS256 or ES256).
        public let algorithm: String
        public let material: Material
    }

    public let keys: [Key]

    /// A set without keys: every token is refused.
    public static let empty = JSONWebKeySet(keys: [])

    private init(keys: [Key]) { self.keys = keys }

    /// Parses a JWKS document; keys of other types, curves or uses are left out.
    public init(json: [UInt8]) throws {
        let document: JSONValue
        do {
            document = try JSONValue.parse(json)
        } catch {
            throw JWTError.invalidKeySet("not JSON: \(error)")
        }
        guard let entries = document["keys"]?.arrayValue else { throw JWTError.invalidKeySet("no \"keys\" array") }
        keys = entries.compactMap(Self.key)
    }

    /// The keys a token signed with `algorithm` under `keyID` may be checked with: the key with
    /// that id, or, for a token without one, every key of the algorithm.
    public func candidates(algorithm: String, keyID: String?) -> [Key] {
        keys.filter { $0.algorithm == algorithm && (keyID == nil || $0.id == keyID) }
    }

    private static func key(_ entry: JSONValue) -> Key? {
        if let use = entry["use"]?.stringValue, use != "sig" { return nil }
        let id = entry["kid"]?.stringValue
        let declared = entry["alg"]?.stringValue
        switch entry["kty"]?.stringValue {
        case "RSA":
            guard declared == nil || declared == "RS256",
                let n = entry["n"]?.stringValue.flatMap(Base64.decodeURLSafe), let e = entry["e"]?.stringValue.flatMap(Base64.decodeURLSafe),
                let key = try? _RSA.Signing.PublicKey(n: n, e: e)
            else { return nil }
            return Key(id: id, algorithm: "RS256", material: .rsa(key))
        case "EC":
            guard declared == nil || declared == "ES256", entry["crv"]?.stringValue == "P-256",
                let x = entry["x"]?.stringValue.flatMap(Base64.decodeURLSafe), let y = entry["y"]?.stringValue.flatMap(Base64.decodeURLSafe),
                x.count == 32, y.count == 32, let key = try? P256.Signing.PublicKey(rawRepresentation: x + y)
            else { return nil }
            return Key(id: id, algorithm: "ES256", material: .p256(key))
        default:
            return nil
        }
    }
}
