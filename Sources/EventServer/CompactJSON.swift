/// Checks JSON text without building a tree and copies it without insignificant whitespace, so
/// an event is stored as the caller's own bytes on one line. Strings must be valid UTF-8 with
/// valid escapes and no raw control characters; numbers and literals follow RFC 8259; nesting is
/// bounded. Errors name the byte offset.
struct CompactJSON {
    struct Failure: Error, Equatable, CustomStringConvertible {
        let description: String
    }

    static let maximumDepth = 256

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index: Int
    private var depth = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) {
        self.bytes = bytes
        index = start
    }

    /// The objects of `text`, each copied compact between `framing`'s bytes: one object, or (when
    /// `arrayAllowed`) an array of objects, followed by nothing but whitespace. Errors name the
    /// event of an array.
    static func objects(in text: ArraySlice<UInt8>, arrayAllowed: Bool, framing: Framing = Framing()) throws -> [[UInt8]] {
        try text.withUnsafeBufferPointer { buffer in
            var scanner = CompactJSON(buffer, from: 0)
            var objects: [[UInt8]] = []
            scanner.skipWhitespace()
            if arrayAllowed, scanner.peek == UInt8(ascii: "[") {
                scanner.index += 1
                scanner.skipWhitespace()
                if scanner.peek == UInt8(ascii: "]") {
                    scanner.index += 1
                } else {
                    while true {
                        do {
                            objects.append(try scanner.object(framing))
                        } catch let failure as Failure {
                            throw Failure(description: "event \(objects.count + 1): \(failure.description)")
                        }
                        scanner.skipWhitespace()
                        guard scanner.peek == UInt8(ascii: ",") else { break }
                        scanner.index += 1
                    }
                    try scanner.expect(UInt8(ascii: "]"))
                }
            } else {
                objects.append(try scanner.object(framing))
            }
            scanner.skipWhitespace()
            guard scanner.index == buffer.count else { throw scanner.fail("text after the JSON value") }
            return objects
        }
    }

    /// Bytes written before and after each object (an envelope).
    struct Framing {
        var prefix: [UInt8] = []
        var suffix: [UInt8] = []
    }

    private mutating func object(_ framing: Framing) throws -> [UInt8] {
        skipWhitespace()
        guard peek == UInt8(ascii: "{") else { throw peek == nil ? fail("a value expected") : Failure(description: "a JSON object is expected") }
        var output: [UInt8] = []
        output.reserveCapacity(framing.prefix.count + 512 + framing.suffix.count)
        output += framing.prefix
        try value(into: &output)
        output += framing.suffix
        return output
    }

    private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipWhitespace() {
        while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 { index += 1 }
    }

    private func fail(_ what: String) -> Failure {
        Failure(description: index < bytes.count ? "\(what) at byte \(index + 1)" : "\(what) at the end")
    }

    private mutating func expect(_ byte: UInt8) throws {
        guard peek == byte else { throw fail("'\(Character(Unicode.Scalar(byte)))' expected") }
        index += 1
    }

    private mutating func value(into output: inout [UInt8]) throws {
        skipWhitespace()
        guard let byte = peek else { throw fail("a value expected") }
        switch byte {
        case UInt8(ascii: "{"): try container(into: &output, close: UInt8(ascii: "}"), keyed: true)
        case UInt8(ascii: "["): try container(into: &output, close: UInt8(ascii: "]"), keyed: false)
        case UInt8(ascii: "\""): try string(into: &output)
        case UInt8(ascii: "t"): try literal("true", into: &output)
        case UInt8(ascii: "f"): try literal("false", into: &output)
        case UInt8(ascii: "n"): try literal("null", into: &output)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number(into: &output)
        default: throw fail("unexpected character")
        }
    }

    private mutating func container(into output: inout [UInt8], close: UInt8, keyed: Bool) throws {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maximumDepth else { throw fail("nesting deeper than \(Self.maximumDepth)") }
        output.append(bytes[index])
        index += 1
        skipWhitespace()
        if peek == close {
            output.append(close)
            index += 1
            return
        }
        while true {
            if keyed {
                skipWhitespace()
                guard peek == UInt8(ascii: "\"") else { throw fail("a member name expected") }
                try string(into: &output)
                skipWhitespace()
                try expect(UInt8(ascii: ":"))
                output.append(UInt8(ascii: ":"))
            }
            try value(into: &output)
            skipWhitespace()
            guard let next = peek else { throw fail("'\(Character(Unicode.Scalar(close)))' expected") }
            index += 1
            output.append(next)
            if next == close { return }
            guard next == UInt8(ascii: ",") else {
                index -= 1
                throw fail("',' or '\(Character(Unicode.Scalar(close)))' expected")
            }
        }
    }

    private mutating func literal(_ word: StaticString, into output: inout [UInt8]) throws {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count, (0..<count).allSatisfy({ bytes[index + $0] == word.utf8Start[$0] }) else {
            throw fail("unexpected character")
        }
        output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[index..<(index + count)]))
        index += count
    }

    private mutating func number(into output: inout [UInt8]) throws {
        let start = index
        func digits() -> Int {
            let first = index
            while let byte = peek, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { index += 1 }
            return index - first
        }
        if peek == UInt8(ascii: "-") { index += 1 }
        if peek == UInt8(ascii: "0") {
            index += 1
        } else if digits() == 0 {
            throw fail("a digit expected")
        }
        if peek == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { throw fail("a digit expected") }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            index += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { throw fail("a digit expected") }
        }
        output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
    }

    /// A string, checked and copied as written (escapes kept).
    private mutating func string(into output: inout [UInt8]) throws {
        let start = index
        index += 1
        while true {
            guard let byte = peek else { throw fail("an unterminated string") }
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
                return
            case UInt8(ascii: "\\"):
                index += 1
                guard let escaped = peek else { throw fail("an unterminated string") }
                if escaped == UInt8(ascii: "u") {
                    guard index + 4 < bytes.count, (1...4).allSatisfy({ Self.isHexDigit(bytes[index + $0]) }) else { throw fail("a bad \\u escape") }
                    index += 5
                } else {
                    guard Self.simpleEscapes.contains(escaped) else { throw fail("a bad escape") }
                    index += 1
                }
            case 0..<0x20:
                throw fail("a control character in a string")
            case 0x20..<0x80:
                index += 1
            default:
                try skipUTF8Sequence()
            }
        }
    }

    /// Steps over one multi-byte UTF-8 sequence (RFC 3629: no overlongs, no surrogates).
    private mutating func skipUTF8Sequence() throws {
        let lead = bytes[index]
        let (count, low, high): (Int, UInt8, UInt8) =
            switch lead {
            case 0xC2...0xDF: (2, 0x80, 0xBF)
            case 0xE0: (3, 0xA0, 0xBF)
            case 0xE1...0xEC, 0xEE...0xEF: (3, 0x80, 0xBF)
            case 0xED: (3, 0x80, 0x9F)
            case 0xF0: (4, 0x90, 0xBF)
            case 0xF1...0xF3: (4, 0x80, 0xBF)
            case 0xF4: (4, 0x80, 0x8F)
            default: (0, 0, 0)
            }
        guard count > 0, index + count <= bytes.count, (low...high).contains(bytes[index + 1]),
            (2..<count).allSatisfy({ (0x80...0xBF).contains(bytes[index + $0]) })
        else { throw fail("invalid UTF-8") }
        index += count
    }

    private static let simpleEscapes: Set<UInt8> = Set("\"\\/bfnrt".utf8)

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
    }
}
