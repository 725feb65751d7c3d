/// Random secrets (API tokens, admin keys): 256 bits, URL-safe base64 without padding.
public enum SecretToken {
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Base64.encodeURLSafe(bytes)
    }
}

extension Sequence where Element == UInt8 {
    /// Lowercase hexadecimal, as digests are written.
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in self {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

import Foundation
