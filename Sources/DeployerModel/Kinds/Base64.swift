import Foundation

/// Standard base64 (RFC 4648) as used by Secret `data`.
public enum Base64 {
    /// Decodes base64 text; nil when it is not valid base64.
    public static func decode(_ text: String) -> [UInt8]? {
        Data(base64Encoded: text).map { Array($0) }
    }

    /// Decodes base64url text (RFC 4648 §5, padding optional), as JWTs and JWKs carry it.
    public static func decodeURLSafe(_ text: some StringProtocol) -> [UInt8]? {
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        guard !standard.contains("=") else { return nil }
        standard += String(repeating: "=", count: (4 - standard.count % 4) % 4)
        return decode(standard)
    }

    /// Encodes bytes as base64url text without padding.
    public static func encodeURLSafe(_ bytes: some Sequence<UInt8>) -> String {
        encode(bytes).replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Encodes bytes as base64 text.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        Data(bytes).base64EncodedString()
    }
}
