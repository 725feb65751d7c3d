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

    @Test func yamlKeepsStringsThatLookLikeNumbers() throws {
        let value: JSONValue = ["version": "1", "flag": "true", "count": 3, "text": "a\nb"]
        let back = try JSONValue.parseYAMLDocuments(value.yamlString())
        #expect(back == [value])
    }

    @Test func multiDocumentYAMLSkipsEmptyDocuments() throws {
        let documents = try JSONValue.parseYAMLDocuments("---\na: 1\n---\n---\nb: [x, 2]\n")
        #expect(documents == [["a": 1], ["b": ["x", 2]]])
    }
}
