import DeployerModel
import Testing

@Suite struct JSONTests {
    @Test func parseAndSerializeRoundTrip() throws {
        let text = #"{"a":[1,2.5,"x\n\"y\"",true,null,{"b":{}}],"kind":"K","apiVersion":"v"}"#
        let value = try JSONValue.parse(text)
        #expect(value["a"]?.arrayValue?[0] == .int(1))
        #expect(value["a"]?.arrayValue?[1] == .double(2.5))
        #expect(value.jsonString == #"{"apiVersion":"v","kind":"K","a":[1,2.5,"x\n\"y\"",true,null,{"b":{}}]}"#)
        #expect(try JSONValue.parse(value.serialized()) == value)
    }

    @Test(arguments: ["{", "[1,]", #"{"a":1,"a":2}"#, "01", "\"\\x\"", "nul", "{\"a\" 1}"])
    func invalidJSONIsRefused(text: String) {
        #expect(throws: JSONSyntaxError.self) { try JSONValue.parse(text) }
    }

    @Test func stringsAreEscapedWhereJSONRequiresIt() throws {
        let text = "plain \"quoted\" back\\slash\nline\ttab\r\u{01}\u{1F} é 📈 end"
        let serialized = String(decoding: JSONValue.string(text).serialized(), as: UTF8.self)
        #expect(serialized == #""plain \"quoted\" back\\slash\nline\ttab\r\u0001\u001f é 📈 end""#)
        #expect(try JSONValue.parse(serialized) == .string(text))
        #expect(JSONValue.string("").serialized() == Array(#""""#.utf8))
    }

    /// The digit-by-digit reading of numbers gives exactly what the standard library's
    /// conversion of the text gives, on the fast paths and off them.
    @Test func numbersParseExactlyAsTheirText() throws {
        var generator = SplitMix64(seed: 42)
        var texts = [
            "0", "-0", "-0.0", "0.1", "0.2", "0.30000000000000004", "123456789012345678", "1234567890123456789",
            "-9223372036854775808", "9223372036854775808", "1e22", "1e23", "1.5e-22", "1e-23", "4.35", "2.5E+3", "1E400", "5e-324",
        ]
        for _ in 0..<20_000 {
            let whole = String(UInt64.random(in: 0...999_999_999_999, using: &generator) >> UInt64.random(in: 0...40, using: &generator))
            let fraction = String(UInt64.random(in: 0...99_999_999, using: &generator))
            var text = (Bool.random(using: &generator) ? "-" : "") + whole + "." + fraction
            if Bool.random(using: &generator) { text += "e" + String(Int.random(in: -30...30, using: &generator)) }
            texts.append(text)
        }
        // How Python and NumPy write numbers (shortest round trip, often 17 digits), 32-bit
        // values widened, and decimals halfway between two doubles.
        texts += ["9007199254740993.0", "9007199254740993.00000000001", "0.30452176928520203", "2.2250738585072014e-308"]
        for _ in 0..<20_000 {
            let wide = Double(bitPattern: generator.next() >> 2 | 0x3C00_0000_0000_0000)
            texts.append(wide.description)
            texts.append(Double(Float(wide)).description)
        }
        // Mantissas of up to 19 digits with powers of ten inside and just outside the 128-bit
        // table (10^-64 … 10^64), and halfway points: 2^53 + 1 and 2^54 + 2 need the exact path.
        texts += ["18014398509481986e0", "9007199254740993e0", "1e-64", "1e64", "9999999999999999999e-64", "1e-65", "1e65"]
        for _ in 0..<20_000 {
            let mantissa = UInt64.random(in: 1...9_999_999_999_999_999_999, using: &generator) >> UInt64.random(in: 0...60, using: &generator)
            texts.append("\(mantissa)e\(Int.random(in: -70...70, using: &generator))")
        }
        let parsed = try JSONValue.parse("[" + texts.joined(separator: ",") + "]").arrayValue ?? []
        #expect(parsed.count == texts.count)
        for (text, value) in zip(texts, parsed) {
            if let integer = Int64(text) {
                #expect(value == .int(integer), "\(text)")
            } else {
                let expected = try #require(Double(text))
                #expect(value.doubleValue?.bitPattern == expected.bitPattern, "\(text) → \(value) instead of \(expected)")
            }
        }
    }

    @Test func yamlKeepsStringsThatLookLikeNumbers() throws {
        let value: JSONValue = ["version": "1", "flag": "true", "count": 3, "text": "a\nb"]
        let back = try JSONValue.parseYAMLDocuments(value.yamlString())
        #expect(back == [value])
    }

    @Test func aMemberNameIsSkippedOnlyWhenItsBytesAreTheSame() throws {
        // Names read from the first object; then the second object's names against them.
        var parser = JSONParser(bytes: Array(#"{"t\u0065nure":1,"ab":2} {"t\u0065nure" : 3,"abc":4,"ab":5}"#.utf8))
        #expect(try parser.open(UInt8(ascii: "{"), closing: UInt8(ascii: "}")))
        let escaped = try parser.scanMemberName()
        _ = try parser.parseValue()
        #expect(try parser.nextMember(closing: UInt8(ascii: "}")))
        let short = try parser.scanMemberName()
        _ = try parser.parseValue()
        #expect(try !parser.nextMember(closing: UInt8(ascii: "}")))
        #expect(try parser.open(UInt8(ascii: "{"), closing: UInt8(ascii: "}")))
        #expect(try !parser.skipMemberName(equalTo: short))  // "t\u0065nure" is not "ab"
        #expect(try parser.skipMemberName(equalTo: escaped))  // same bytes, space before the colon
        #expect(try parser.parseValue() == 3)
        #expect(try parser.nextMember(closing: UInt8(ascii: "}")))
        #expect(try !parser.skipMemberName(equalTo: short))  // "abc" only starts like "ab"
        #expect(try parser.string(raw: parser.scanMemberName()) == "abc")
        #expect(try parser.parseValue() == 4)
        #expect(try parser.nextMember(closing: UInt8(ascii: "}")))
        #expect(try parser.skipMemberName(equalTo: short))
        #expect(try parser.parseValue() == 5)
    }

    @Test func multiDocumentYAMLSkipsEmptyDocuments() throws {
        let documents = try JSONValue.parseYAMLDocuments("---\na: 1\n---\n---\nb: [x, 2]\n")
        #expect(documents == [["a": 1], ["b": ["x", 2]]])
    }
}
