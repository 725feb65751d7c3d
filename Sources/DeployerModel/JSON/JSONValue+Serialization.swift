extension JSONValue {
    /// Compact JSON bytes with a stable member order: `apiVersion`, `kind`, `metadata`, `spec`,
    /// `status` first (how people read objects), then the rest sorted. Equal values always
    /// serialize to equal bytes.
    /// `sortingKeys: false` writes members in the dictionary's own order, which is faster and is
    /// what the query path uses (clients read JSON objects by name).
    public func serialized(sortingKeys: Bool = true) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(256)
        write(into: &output, sortingKeys: sortingKeys)
        return output
    }

    /// The serialized JSON as a string.
    public var jsonString: String { String(decoding: serialized(), as: UTF8.self) }

    /// Appends the decimal digits of `number` (and its sign) to `output`, without a string.
    public static func writeInteger(_ number: Int64, into output: inout [UInt8]) {
        if number < 0 { output.append(UInt8(ascii: "-")) }
        var magnitude = number.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 20 digits at most, last digit first
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            for position in stride(from: count - 1, through: 0, by: -1) { output.append(buffer[position]) }
        }
    }

    /// Appends the compact JSON form of this value to `output`.
    public func write(into output: inout [UInt8], sortingKeys: Bool = true) {
        switch self {
        case .null: output.append(contentsOf: "null".utf8)
        case .bool(let flag): output.append(contentsOf: (flag ? "true" : "false").utf8)
        case .int(let number): Self.writeInteger(number, into: &output)
        case .double(let number): Self.writeDouble(number, into: &output)
        case .string(let text): Self.writeString(text, into: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                element.write(into: &output, sortingKeys: sortingKeys)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            func member(_ key: String, _ value: JSONValue, first: Bool) {
                if !first { output.append(UInt8(ascii: ",")) }
                Self.writeString(key, into: &output)
                output.append(UInt8(ascii: ":"))
                value.write(into: &output, sortingKeys: sortingKeys)
            }
            if sortingKeys {
                for (position, key) in Self.orderedKeys(members).enumerated() { member(key, members[key]!, first: position == 0) }
            } else {
                for (position, (key, value)) in members.enumerated() { member(key, value, first: position == 0) }
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    private static let leadingKeys = ["apiVersion", "kind", "metadata", "spec", "status"]

    /// Member names in presentation order: the well-known object keys first, then sorted.
    public static func orderedKeys(_ members: [String: JSONValue]) -> [String] {
        let leading = leadingKeys.filter { members[$0] != nil }
        let rest = members.keys.filter { !leadingKeys.contains($0) }.sorted()
        return leading + rest
    }

    private static func writeDouble(_ number: Double, into output: inout [UInt8]) {
        guard number.isFinite else {
            output.append(contentsOf: "null".utf8)
            return
        }
        if number.rounded() == number, abs(number) < 1e15 {
            output.append(contentsOf: String(Int64(number)).utf8)
        } else {
            output.append(contentsOf: "\(number)".utf8)
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Writes `text` as a JSON string; runs without escapes are copied straight from its UTF-8.
    public static func writeString(_ text: String, into output: inout [UInt8]) {
        var text = text
        text.withUTF8 { bytes in
            output.append(UInt8(ascii: "\""))
            var start = 0
            for index in 0..<bytes.count {
                let byte = bytes[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
                start = index + 1
                switch byte {
                case UInt8(ascii: "\""): output.append(contentsOf: [0x5C, 0x22])
                case UInt8(ascii: "\\"): output.append(contentsOf: [0x5C, 0x5C])
                case 0x0A: output.append(contentsOf: [0x5C, UInt8(ascii: "n")])
                case 0x0D: output.append(contentsOf: [0x5C, UInt8(ascii: "r")])
                case 0x09: output.append(contentsOf: [0x5C, UInt8(ascii: "t")])
                default:
                    output.append(contentsOf: [0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                    output.append(hexDigits[Int(byte >> 4)])
                    output.append(hexDigits[Int(byte & 0xF)])
                }
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start...]))
            output.append(UInt8(ascii: "\""))
        }
    }
}

extension JSONValue {
    /// Valid JSON text without the whitespace between tokens: one line, the caller's own
    /// spelling of strings and numbers kept.
    public static func compact(_ text: ArraySlice<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(text.count)
        var inString = false
        var escaping = false
        for byte in text {
            if inString {
                if escaping {
                    escaping = false
                } else if byte == UInt8(ascii: "\\") {
                    escaping = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
            } else if isWhitespace(byte) {
                continue
            }
            output.append(byte)
        }
        return output
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }
}
