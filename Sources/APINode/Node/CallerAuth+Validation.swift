import CloudHTTP
import DeployerModel
import Foundation

extension CallerAuth {
    /// Checks every field; the error names the first bad one.
    func validate() throws {
        switch mode {
        case .public:
            break
        case .apiKeys:
            guard let keys = apiKeys, !keys.isEmpty else { throw NodeError.invalid("apiKeys: at least one key is required in mode apiKeys") }
            for (index, key) in keys.enumerated() where key.sha256.count != 64 || !key.sha256.allSatisfy(\.isHexDigit) {
                throw NodeError.invalid("apiKeys[\(index)].sha256: 64 hexadecimal digits expected")
            }
        case .jwt:
            guard let jwt else { throw NodeError.invalid("jwt: required in mode jwt") }
            guard (jwt.jwksURL == nil) != (jwt.jwks == nil) else { throw NodeError.invalid("jwt: give exactly one of jwksURL and jwks") }
            if let url = jwt.jwksURL, URL(string: url)?.host == nil || !url.hasPrefix("http") {
                throw NodeError.invalid("jwt.jwksURL \"\(url)\" is not an http(s) URL")
            }
            if let jwks = jwt.jwks {
                do {
                    guard !(try JSONWebKeySet(json: jwks.serialized())).keys.isEmpty else { throw JWTError.invalidKeySet("no RS256 or ES256 key") }
                } catch {
                    throw NodeError.invalid("jwt.jwks: \(error)")
                }
            }
        }
    }
}
