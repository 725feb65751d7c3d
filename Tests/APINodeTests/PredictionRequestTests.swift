import DeployerModel
import Foundation
import Testing

@testable import APINode

/// Prediction bodies are read in one pass straight into the model's columns: any valid JSON
/// spelling gives the answer its compact form gives, and the query log gets the records and
/// results as one line of the caller's JSON.
@Suite struct PredictionRequestTests {
    func ask(_ verb: String, _ text: String) async throws -> PublicAPI.Answer {
        var generator = SplitMix64(seed: 3)
        return await PublicAPI().handle(
            try PublicAPITests.table(), service: "churn", endpoint: "predict-churn", verb: verb, body: Array(text.utf8), query: [:], using: &generator)
    }

    @Test func anySpellingOfTheRecordsGivesTheSameAnswerAndALoggedLine() async throws {
        // Whitespace and newlines, members in another order per record, an escaped name, a
        // feature the model does not take, members of an item besides its features.
        let spaced = """
            {
              "context": {"user": "u 1"},
              "items": [
                {"features": {"tenure": 3, "charges": 6}},
                {"id": [1, 2], "features": { "charges" : 2 , "t\\u0065nure": 1, "colour": "blue sky" }},
                {"features": {"tenure": null, "charges": 4.5e0}}
              ]
            }
            """
        let compact = #"{"items":[{"features":{"tenure":3,"charges":6}},{"features":{"tenure":1,"charges":2}},{"features":{"charges":4.5}}],"context":{"user":"u 1"}}"#
        let answer = try await ask("predict-multi", spaced)
        #expect(answer.status == 200)
        let results = answer.body["results"]?.arrayValue ?? []
        #expect(results.prefix(2).map { $0["prediction"] } == [.double(3.5), .double(0.5)])
        #expect(results.last?["ignoreReason"]?.stringValue?.contains("tenure") == true)
        #expect(try await ask("predict-multi", compact).body["results"] == answer.body["results"])

        let event = QueryEvent(requestID: "r", service: "churn", endpoint: "predict-churn", verb: "predict-multi", answer: answer, elapsed: .microseconds(9))
        #expect(!event.line.contains(UInt8(ascii: "\n")))
        let logged = try JSONValue.parse(event.line)
        #expect(logged["items"] == [["tenure": 3, "charges": 6], ["charges": 2, "tenure": 1, "colour": "blue sky"], ["tenure": .null, "charges": 4.5]])
        #expect(logged["results"] == answer.body["results"] && logged["context"] == ["user": "u 1"])
    }

    @Test func aRepeatedFeatureOrABadRecordIsRefusedWithItsPlace() async throws {
        let repeated = try await ask("predict", #"{"features": {"tenure": 3, "charges": 6, "tenure": 4}}"#)
        #expect(repeated.status == 400 && repeated.body["message"]?.stringValue?.contains("duplicate member \"tenure\"") == true)
        let notAnObject = try await ask("predict-multi", #"{"items": [{"features": {"tenure": 3, "charges": 6}}, {"features": [3, 6]}]}"#)
        #expect(notAnObject.status == 400 && notAnObject.body["message"]?.stringValue?.contains("items[1].features") == true)
        let nested = try await ask("predict", #"{"features": {"tenure": {"years": 3}, "charges": 6}}"#)
        #expect(nested.status == 400 && nested.body["details"]?["feature"] == "tenure")
        let empty = try await ask("predict-multi", #"{"items": []}"#)
        #expect(empty.status == 400 && empty.body["message"]?.stringValue?.contains("non-empty") == true)
        let truncated = try await ask("predict", #"{"features": {"tenure": 3, "charges": 6}"#)
        #expect(truncated.status == 400 && truncated.body["message"]?.stringValue?.contains("not valid JSON") == true)
        let array = try await ask("predict", "[1]")
        #expect(array.status == 400 && array.body["message"]?.stringValue?.contains("JSON object") == true)
    }

    @Test func wideRecordsFindTheirColumnsByNameWhateverTheSpelling() throws {
        // Up to 16 columns are found by a scan, more by a table: a repeated name, even escaped,
        // is refused on both sides of the switch, and every record lands in the right columns.
        let names = (0..<20).map { "x\($0)" }
        func body(_ pairs: [(String, Int)]) -> [UInt8] {
            Array(("{\"items\":[" + [pairs, pairs.reversed()].map { record in
                "{\"features\":{" + record.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}}"
            }.joined(separator: ",") + "]}").utf8)
        }
        let request = try PredictionRequest(body: body(names.enumerated().map { ($1, $0) }), multi: true)
        #expect(request.records.names == names && request.records.count == 2)
        for record in 0..<2 {
            let missing = request.records.missing(names + ["x20"], in: record)
            #expect(missing == ["x20"])
            #expect(names.enumerated().allSatisfy { request.records.value($1, in: record) == .number(Double($0)) })
        }
        // "x3" among 5 columns (scan), "x18" among 20 (table), each spelled with an escape.
        for (count, repeated) in [(5, #"x\u0033"#), (20, #"x1\u0038"#)] {
            let pairs = names.prefix(count).enumerated().map { ($1, $0) } + [(repeated, 0)]
            #expect(throws: JSONSyntaxError.self) { try PredictionRequest(body: body(pairs), multi: true) }
        }
    }
}
