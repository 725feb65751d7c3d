import Foundation

/// Standard base64 (RFC 4648) as used by Secret `data`.
public enum Base64 {
    /// Decodes base64 text; nil when it is not valid base64.
    public static func decode(_ text: String) -> [UInt8]? {
        Data(base64Encoded: text).map { Array($0) }
    }

    /// Encodes bytes as base64 text.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        Data(bytes).base64EncodedString()
    }
}
