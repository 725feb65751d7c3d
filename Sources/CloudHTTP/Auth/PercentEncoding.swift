import Foundation

/// RFC 3986 percent-encoding as AWS signatures, S3 paths and OAuth forms want it.
public enum PercentEncoding {
    /// Percent-encodes every byte but the unreserved `A-Z a-z 0-9 - _ . ~`, with upper-case hex.
    public static func unreserved(_ text: String) -> String {
        var output = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                output.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                output += String(format: "%%%02X", byte)
            }
        }
        return output
    }
}
