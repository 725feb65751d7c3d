import DeployerModel
import Foundation
import Testing

@testable import EventServer

/// Events are checked without building a tree and stored as the caller's bytes on one line.
@Suite struct CompactJSONTests {
    func compact(_ text: String, arrayAllowed: Bool = true) throws -> [String] {
        try CompactJSON.objects(in: Array(text.utf8)[...], arrayAllowed: arrayAllowed).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func validTextIsCopiedWithoutWhitespaceOutsideStrings() throws {
        let pretty = """
            {
              "service" : "churn",
              "features": { "tenure": 3, "plan": "basic plan", "charges": -70.5e-1, "flags": [ true, false, null ] },
              "escaped": "a\\"b\\\\c\\u00e9\\n", "unicode": "é – 📈", "empty": {}, "none": [ ]
            }
            """
        let expected = #"{"service":"churn","features":{"tenure":3,"plan":"basic plan","charges":-70.5e-1,"flags":[true,false,null]},"#
            + #""escaped":"a\"b\\c\u00e9\n","unicode":"é – 📈","empty":{},"none":[]}"#
        #expect(try compact(pretty) == [expected])
        #expect(try JSONValue.parse(expected) == JSONValue.parse(pretty))
        #expect(try compact(" [ {\"a\":1} ,\n{\"b\":[0.5,1E+2]} ] ") == [#"{"a":1}"#, #"{"b":[0.5,1E+2]}"#])
        #expect(try compact("[]").isEmpty)
    }

    @Test(arguments: [
        #"{"a":01}"#, #"{"a":1.}"#, #"{"a":-}"#, #"{"a":1e}"#, "{\"a\":\"\u{01}\"}", #"{"a":"\q"}"#, #"{"a":"\u12"}"#, #"{"a":1,}"#,
        #"{"a" 1}"#, #"{a:1}"#, #"{"a":tru}"#, #"{"a":1} x"#, #"{"a":1"#, #"{"a":"x"#, "", "   ", "[1]", #"[{"a":1},2]"#, #"[{"a":1}"#,
        #"[{"a":1},]"#, "\"text\"", "42",
    ])
    func invalidTextIsRefused(_ text: String) {
        #expect(throws: CompactJSON.Failure.self) { try compact(text) }
    }

    @Test func invalidUTF8AndDeepNestingAreRefused() {
        for bytes: [UInt8] in [[0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xC3, 0x28, 0x22, 0x7D], [0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xED, 0xA0, 0x80, 0x22, 0x7D]] {
            #expect(throws: CompactJSON.Failure.self) { try CompactJSON.objects(in: bytes[...], arrayAllowed: false) }
        }
        let deep = "{\"a\":" + String(repeating: "[", count: 300) + String(repeating: "]", count: 300) + "}"
        #expect(throws: CompactJSON.Failure.self) { try compact(deep) }
    }

    @Test func errorsNameTheEventAndTheByte() {
        #expect(throws: CompactJSON.Failure(description: "event 2: a JSON object is expected")) { try compact(#"[{"a":1},2]"#) }
        #expect(throws: CompactJSON.Failure(description: "a digit expected at byte 7")) { try compact(#"{"a":-x}"#) }
    }

    @Test func randomDocumentsSurviveTheRoundTrip() throws {
        var generator = SplitMix64(seed: 7)
        func value(_ depth: Int) -> JSONValue {
            switch generator.next() % (depth > 3 ? 4 : 6) {
            case 0: .int(Int64(bitPattern: generator.next()) >> 20)
            case 1: .double(Double(Int64(bitPattern: generator.next()) >> 30) / 1024)
            case 2: .string(String((0..<Int(generator.next() % 12)).map { _ in "aé\"\\\n📈 z".randomElement(using: &generator)! }))
            case 3: [.bool(true), .bool(false), .null][Int(generator.next() % 3)]
            case 4: .array((0..<Int(generator.next() % 4)).map { _ in value(depth + 1) })
            default: .object(Dictionary(uniqueKeysWithValues: (0..<Int(generator.next() % 4)).map { ("k\($0)", value(depth + 1)) }))
            }
        }
        for _ in 0..<2_000 {
            let document = JSONValue.object(["event": value(0)])
            let text = document.serialized(sortingKeys: false)
            let copied = try CompactJSON.objects(in: text[...], arrayAllowed: false)
            #expect(copied == [text])
            #expect(try JSONValue.parse(copied[0]) == JSONValue.parse(text))
        }
    }
}
