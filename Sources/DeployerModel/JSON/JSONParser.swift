import Foundation

/// An error in JSON text, with the byte offset where it was found.
public struct JSONSyntaxError: Error, CustomStringConvertible, Sendable {
    public let offset: Int
    public let reason: String
    public var description: String { "invalid JSON at byte \(offset): \(reason)" }
}

/// A strict RFC 8259 parser that keeps integers apart from floating-point numbers and rejects
/// duplicate object keys (Kubernetes strict field validation reports them as errors too).
///
/// Readers of one document shape (the API node's prediction bodies) drive it member by member
/// with its public steps and take whole values with `parseValue()` where the shape is open.
public struct JSONParser {
    public let bytes: [UInt8]
    /// The offset of the next byte to read.
    public private(set) var index = 0
    private var depth = 0
    /// Members of the objects being parsed, innermost last: one buffer reused for every object,
    /// so that each dictionary is built once at its final size.
    private var memberStack: [(String, JSONValue)] = []
    private static let maximumDepth = 256

    public init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func parseDocument() throws -> JSONValue {
        skipWhitespace()
        let value = try parseValue()
        try finish()
        return value
    }

    /// Checks that only whitespace is left.
    public mutating func finish() throws {
        skipWhitespace()
        guard index == bytes.count else { throw fail("unexpected content after the document") }
    }

    /// A syntax error at the current offset.
    public func fail(_ reason: String) -> JSONSyntaxError { JSONSyntaxError(offset: index, reason: reason) }

    /// The next byte after any whitespace, not consumed; nil at the end.
    public mutating func peek() -> UInt8? {
        skipWhitespace()
        return index < bytes.count ? bytes[index] : nil
    }

    /// Consumes `opening` (`{` or `[`); false when `closing` follows at once (it is consumed too).
    public mutating func open(_ opening: UInt8, closing: UInt8) throws -> Bool {
        try expect(opening)
        guard peek() == closing else { return true }
        index += 1
        return false
    }

    /// Consumes `byte` after any whitespace, or fails naming it.
    public mutating func expect(_ byte: UInt8) throws {
        guard peek() == byte else { throw fail("expected '\(Character(Unicode.Scalar(byte)))'") }
        index += 1
    }

    /// After a member or element: true after a `,` (another follows), false after `closing`.
    public mutating func nextMember(closing: UInt8) throws -> Bool {
        switch peek() {
        case UInt8(ascii: ","):
            index += 1
            return true
        case closing:
            index += 1
            return false
        case nil: throw fail("unexpected end of input")
        default: throw fail("expected ',' or '\(Character(Unicode.Scalar(closing)))'")
        }
    }

    /// Reads a member name and its `:`; returns the name's bytes as written (without quotes),
    /// so that a caller can compare them before making a string of them (`string(raw:)`).
    public mutating func scanMemberName() throws -> Range<Int> {
        guard peek() == UInt8(ascii: "\"") else { throw fail("expected a member name") }
        let start = index + 1
        var position = start
        while position < bytes.count, bytes[position] != UInt8(ascii: "\""), bytes[position] != UInt8(ascii: "\\"), bytes[position] >= 0x20 {
            position += 1
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "\"") {
            index = position + 1
        } else {
            _ = try parseString()
        }
        let raw = start..<(index - 1)
        try expect(UInt8(ascii: ":"))
        skipWhitespace()
        return raw
    }

    /// Reads the member name at the current offset and the `:` after it when its quoted bytes
    /// are those of `raw` (a name read before); otherwise reads nothing and returns false. One
    /// comparison instead of a scan, for records that repeat the previous record's names.
    public mutating func skipMemberName(equalTo raw: Range<Int>) throws -> Bool {
        guard peek() == UInt8(ascii: "\"") else { return false }
        let end = index + 1 + raw.count
        guard end < bytes.count, bytes[end] == UInt8(ascii: "\"") else { return false }
        let same = bytes.withUnsafeBufferPointer { buffer in
            memcmp(buffer.baseAddress! + index + 1, buffer.baseAddress! + raw.lowerBound, raw.count) == 0
        }
        guard same else { return false }
        index = end + 1
        try expect(UInt8(ascii: ":"))
        skipWhitespace()
        return true
    }

    /// The text of a string whose quoted bytes (without the quotes) are `raw`, escapes decoded.
    public func string(raw: Range<Int>) throws -> String {
        var reader = JSONParser(bytes: bytes)
        reader.index = raw.lowerBound - 1
        return try reader.parseString()
    }

    /// How many whitespace bytes between tokens were skipped so far: a value read while it did
    /// not change is already compact.
    public private(set) var whitespaceSkipped = 0

    @inline(__always)
    private mutating func skipWhitespace() {
        guard index < bytes.count, bytes[index] <= 0x20 else { return }
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09:
                index += 1
                whitespaceSkipped += 1
            default: return
            }
        }
    }

    /// Reads one value at the current offset (after whitespace).
    public mutating func parseValue() throws -> JSONValue {
        skipWhitespace()
        guard index < bytes.count else { throw fail("unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw fail("unexpected character '\(Character(Unicode.Scalar(bytes[index])))'")
        }
    }

    private mutating func expectLiteral(_ literal: String) throws {
        for byte in literal.utf8 {
            guard index < bytes.count, bytes[index] == byte else { throw fail("invalid literal") }
            index += 1
        }
    }

    private mutating func enter() throws {
        depth += 1
        if depth > Self.maximumDepth { throw fail("nesting deeper than \(Self.maximumDepth)") }
    }

    private mutating func parseObject() throws -> JSONValue {
        try enter()
        defer { depth -= 1 }
        index += 1
        let base = memberStack.count
        defer { memberStack.removeSubrange(base...) }
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object([:])
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a member name") }
            let key = try parseString()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            index += 1
            skipWhitespace()
            memberStack.append((key, try parseValue()))
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end of input") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(try members(from: base))
            }
            throw fail("expected ',' or '}'")
        }
    }

    /// The members pushed since `base` as one dictionary; a repeated name is an error.
    private func members(from base: Int) throws -> [String: JSONValue] {
        var members = [String: JSONValue](minimumCapacity: memberStack.count - base)
        for (key, value) in memberStack[base...] {
            if members.updateValue(value, forKey: key) != nil { throw fail("duplicate member \"\(key)\"") }
        }
        return members
    }

    private mutating func parseArray() throws -> JSONValue {
        try enter()
        defer { depth -= 1 }
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end of input") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(elements) }
            throw fail("expected ',' or ']'")
        }
    }

    private mutating func parseString() throws -> String {
        index += 1
        let start = index
        // Fast path: no escapes.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let text = String(decoding: bytes[start..<index], as: UTF8.self)
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { break }
            index += 1
        }
        var scalars = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return String(decoding: scalars, as: UTF8.self)
            }
            if byte < 0x20 { throw fail("control character in string") }
            if byte != UInt8(ascii: "\\") {
                scalars.append(byte)
                index += 1
                continue
            }
            index += 1
            guard index < bytes.count else { break }
            let escape = bytes[index]
            index += 1
            switch escape {
            case UInt8(ascii: "\""): scalars.append(0x22)
            case UInt8(ascii: "\\"): scalars.append(0x5C)
            case UInt8(ascii: "/"): scalars.append(0x2F)
            case UInt8(ascii: "b"): scalars.append(0x08)
            case UInt8(ascii: "f"): scalars.append(0x0C)
            case UInt8(ascii: "n"): scalars.append(0x0A)
            case UInt8(ascii: "r"): scalars.append(0x0D)
            case UInt8(ascii: "t"): scalars.append(0x09)
            case UInt8(ascii: "u"):
                var code = try parseHex4()
                if (0xD800...0xDBFF).contains(code) {
                    guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                    else { throw fail("unpaired surrogate") }
                    index += 2
                    let low = try parseHex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw fail("invalid surrogate pair") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(code) {
                    throw fail("unpaired surrogate")
                }
                guard let scalar = Unicode.Scalar(code) else { throw fail("invalid code point") }
                scalars.append(contentsOf: Array(String(Character(scalar)).utf8))
            default: throw fail("invalid escape")
            }
        }
        throw fail("unterminated string")
    }

    private mutating func parseHex4() throws -> UInt32 {
        guard index + 4 <= bytes.count else { throw fail("truncated \\u escape") }
        var code: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw fail("invalid hex digit")
            }
            code = code * 16 + digit
            index += 1
        }
        return code
    }

    /// Numbers are read digit by digit. An integer of up to 18 digits is exact as Int64; a
    /// decimal of up to 19 digits (as Python and NumPy write floats) goes through
    /// `DecimalToDouble.eiselLemire`; anything else, or what that cannot decide, through the C
    /// library's conversion of the text.
    private mutating func parseNumber() throws -> JSONValue {
        let start = index
        let negative = bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        guard index < bytes.count, Self.isDigit(bytes[index]) else { throw fail("invalid number") }
        var mantissa: UInt64 = 0
        var digits = 0
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            let end = Self.foldDigits(bytes, from: index, into: &mantissa)
            digits = end - index
            index = end
        }
        var isInteger = true
        var fractionDigits = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            let end = Self.foldDigits(bytes, from: index, into: &mantissa)
            fractionDigits = end - index
            digits += fractionDigits
            index = end
            if fractionDigits == 0 { throw fail("invalid number") }
        }
        var exponent = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            var negativeExponent = false
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                negativeExponent = bytes[index] == UInt8(ascii: "-")
                index += 1
            }
            let first = index
            while index < bytes.count, Self.isDigit(bytes[index]) {
                if exponent < 100_000 { exponent = exponent * 10 + Int(bytes[index] - UInt8(ascii: "0")) }
                index += 1
            }
            if first == index { throw fail("invalid number") }
            if negativeExponent { exponent = -exponent }
        }
        if isInteger, digits <= 18 {
            return .int(negative ? -Int64(mantissa) : Int64(mantissa))
        }
        let scale = exponent - fractionDigits
        if isInteger, let number = Int64(String(decoding: bytes[start..<index], as: UTF8.self)) { return .int(number) }
        if !isInteger, digits <= 19, let magnitude = DecimalToDouble.eiselLemire(mantissa, exponent: scale) {
            return .double(negative ? -magnitude : magnitude)
        }
        return .double(Self.correctlyRounded(bytes[start..<index]))
    }

    /// The C library's correctly rounded conversion of number text already checked against the
    /// JSON grammar, through a buffer on the stack (no string is made).
    private static func correctlyRounded(_ text: ArraySlice<UInt8>) -> Double {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: text.count + 1) { buffer in
            for (offset, byte) in text.enumerated() { buffer[offset] = CChar(bitPattern: byte) }
            buffer[text.count] = 0
            return strtod(buffer.baseAddress!, nil)
        }
    }

    /// Folds the decimal digits from `position` into `mantissa` (wrapping beyond 19 digits);
    /// returns where they end.
    @inline(__always)
    private static func foldDigits(_ bytes: [UInt8], from position: Int, into mantissa: inout UInt64) -> Int {
        bytes.withUnsafeBufferPointer { buffer in
            var end = position
            var value = mantissa
            // Eight digits at a time while they last (Python writes most floats with 16 or 17).
            while end + 8 <= buffer.count {
                let word = UInt64(littleEndian: UnsafeRawPointer(buffer.baseAddress! + end).loadUnaligned(as: UInt64.self))
                guard let eight = eightDigits(word) else { break }
                value = value &* 100_000_000 &+ eight
                end += 8
            }
            while end < buffer.count {
                let digit = buffer[end] &- UInt8(ascii: "0")
                guard digit < 10 else { break }
                value = value &* 10 &+ UInt64(digit)
                end += 1
            }
            mantissa = value
            return end
        }
    }

    /// The value of eight ASCII digits read as one little-endian word (the first digit in the
    /// lowest byte), or nil when one of the bytes is not a digit; the SWAR steps of `fast_float`.
    @inline(__always)
    private static func eightDigits(_ word: UInt64) -> UInt64? {
        guard ((word &+ 0x4646_4646_4646_4646) | (word &- 0x3030_3030_3030_3030)) & 0x8080_8080_8080_8080 == 0 else { return nil }
        var value = word &- 0x3030_3030_3030_3030
        value = value &* 10 &+ (value >> 8)
        let mask: UInt64 = 0x0000_00FF_0000_00FF
        value = ((value & mask) &* 0x000F_4240_0000_0064 &+ ((value >> 16) & mask) &* 0x0000_2710_0000_0001) >> 32
        return value & 0xFFFF_FFFF
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
}
