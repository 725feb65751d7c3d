/// Kubernetes name rules (`apimachinery pkg/util/validation`).
public enum NameRules {
    /// Whether `name` is a DNS-1123 label (at most 63 characters).
    public static func isDNSLabel(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= 63 else { return false }
        func isAlphanumeric(_ byte: UInt8) -> Bool { (97...122).contains(byte) || (48...57).contains(byte) }
        guard isAlphanumeric(bytes.first!), isAlphanumeric(bytes.last!) else { return false }
        return bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") }
    }

    /// Whether `name` is a DNS-1123 subdomain (at most 253 characters).
    public static func isDNSSubdomain(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 253 else { return false }
        return name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isDNSLabel(String($0)) }
    }

    /// Whether `key` is a valid label or annotation key (`[prefix/]name`).
    public static func isQualifiedName(_ key: String) -> Bool {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { return false }
        if parts.count == 2, !isDNSSubdomain(String(parts[0])) { return false }
        let name = Array(parts.last!.utf8)
        guard !name.isEmpty, name.count <= 63 else { return false }
        func isAlphanumeric(_ byte: UInt8) -> Bool {
            (97...122).contains(byte) || (65...90).contains(byte) || (48...57).contains(byte)
        }
        guard isAlphanumeric(name.first!), isAlphanumeric(name.last!) else { return false }
        return name.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }

    /// Whether `text` is an identifier of services and endpoints: ASCII letters, digits, '-', '_'
    /// and '.', starting with a letter or digit, at most 128 characters.
    public static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, text.count <= 128, first.properties.isAlphabetic || ("0"..."9").contains(first)
        else { return false }
        return text.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0))
        }
    }

    /// Whether `name` can be an event topic or routing key: both become folder names on the
    /// event server, so 1 to 128 ASCII letters, digits, '.', '_' or '-', and not `.` or `..`.
    public static func isEventName(_ name: String) -> Bool {
        let bytes = name.utf8
        guard (1...128).contains(bytes.count), name != ".", name != ".." else { return false }
        return bytes.allSatisfy { byte in
            (97...122).contains(byte) || (65...90).contains(byte) || (48...57).contains(byte)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
        }
    }

    /// What `isEventName` expects, for error messages.
    public static let eventNameRule = "1 to 128 letters, digits, '.', '_' or '-' are expected"

    /// Whether `value` is a valid label value (empty or a qualified name part).
    public static func isLabelValue(_ value: String) -> Bool {
        value.isEmpty || (!value.contains("/") && isQualifiedName(value))
    }
}

extension Duration {
    /// Parses a Go-style duration (`30s`, `5m`, `1h30m`, `250ms`).
    public init?(kubernetesString text: String) {
        var total = 0.0
        var rest = Substring(text)
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isNumber || $0 == "." }
            guard !digits.isEmpty, let number = Double(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            let unit = rest.prefix { $0.isLetter }
            rest = rest.dropFirst(unit.count)
            switch unit {
            case "ms": total += number / 1000
            case "s": total += number
            case "m": total += number * 60
            case "h": total += number * 3600
            default: return nil
            }
        }
        self = .milliseconds(Int64((total * 1000).rounded()))
    }
}
