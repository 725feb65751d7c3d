import APINode
import DeployerModel
import Foundation
import ModelRuntime
import Testing

/// The public query API over a serving snapshot, as existing clients call it.
@Suite struct PublicAPITests {
    /// Two generations of a small regression service: v1 = the scaler model, v2 = doubled coefficients.
    static func table(enabled: Bool = true, mapping: GenerationMapping? = .single("v1")) throws -> ServingTable {
        var generations: [String: ValidatedPackage] = [:]
        for (version, coefficients) in [("v1", "[1.0, 2.0]"), ("v2", "[2.0, 4.0]")] {
            let model = PackageTests.scalerModel.replacingOccurrences(of: "coefficients=[1.0, 2.0]", with: "coefficients=\(coefficients)")
            let folder = try PackageTests.packageFolder(model: model, manifest: PackageTests.manifest.replacingOccurrences(of: "version: v1", with: "version: \(version)"))
            generations[version] = try PackageValidator.validate(folder: folder)
        }
        return ServingTable(services: [ServingTable.Service(id: "churn", enabled: enabled, generations: generations, mapping: mapping)])
    }

    func ask(_ table: ServingTable, _ verb: String = "predict", _ body: JSONValue? = nil, query: [String: String] = [:],
             service: String = "churn", endpoint: String = "predict-churn") async -> PublicAPI.Answer {
        var generator = SplitMix64(seed: 9)
        return await PublicAPI().handle(table, service: service, endpoint: endpoint, verb: verb, body: body?.serialized() ?? [], query: query, using: &generator)
    }

    @Test func predictAnswersWithResultTimingAndContext() async throws {
        let answer = await ask(try Self.table(), "predict", ["features": ["tenure": 3, "charges": 6], "context": ["user": "u1"]])
        #expect(answer.status == 200)
        #expect(answer.body["result"]?["prediction"] == .double(3.5))
        #expect(answer.body["result"]?["ignored"] == false)
        #expect(answer.body["apiContext"] == ["serviceId": "churn", "endpointId": "predict-churn", "serviceGeneration": "v1"])
        #expect(answer.body["timing"]?["prediction"] != nil)
        #expect(PublicAPI.headers.contains { $0.0 == "DSS-API-Version" })
    }

    @Test func predictMultiKeepsTheOrderAndPredictSimpleReadsTheQueryString() async throws {
        let table = try Self.table()
        let multi = await ask(table, "predict-multi", ["items": [["features": ["tenure": 3, "charges": 6]], ["features": ["tenure": 1, "charges": 2]]]])
        #expect(multi.body["results"]?.arrayValue?.map { $0["prediction"] } == [.double(3.5), .double(0.5)])
        let simple = await ask(table, "predict-simple", query: ["tenure": "3", "charges": "6"])
        #expect(simple.body["result"]?["prediction"] == .double(3.5))
    }

    @Test func forcedGenerationsAndHashDispatch() async throws {
        let split = GenerationMapping(strategy: .hashBased, entries: [.init(generation: "v1", proba: 0.5), .init(generation: "v2", proba: 0.5)])
        let table = try Self.table(mapping: split)
        let forced = await ask(table, "predict", ["features": ["tenure": 3, "charges": 6], "dispatch": ["forcedGeneration": "v2"]])
        #expect(forced.body["result"]?["prediction"] == .double(6.5))
        #expect(forced.generation == "v2")
        #expect(await ask(table, "predict", ["features": ["tenure": 3, "charges": 6]]).status == 400)
        var keyed: [String?] = []
        for _ in 0..<20 {
            keyed.append(await ask(table, "predict", ["features": ["tenure": 3, "charges": 6], "dispatch": ["dispatchKey": "customer-42"]]).generation)
        }
        #expect(Set(keyed).count == 1)
        #expect(await ask(table, "predict", ["features": ["tenure": 3], "dispatch": ["forcedGeneration": "v7"]]).status == 400)
    }

    @Test func badInputGetsPreciseAnswers() async throws {
        let table = try Self.table()
        let wrongType = await ask(table, "predict", ["features": ["tenure": "three", "charges": 6]])
        #expect(wrongType.status == 400)
        #expect(wrongType.body["details"]?["feature"] == "tenure")
        #expect(wrongType.body["message"]?.stringValue?.contains("tenure") == true)
        var generator = SplitMix64(seed: 1)
        let invalidJSON = await PublicAPI().handle(table, service: "churn", endpoint: "predict-churn", verb: "predict", body: Array("{oops".utf8), query: [:], using: &generator)
        #expect(invalidJSON.status == 400)
        #expect(await ask(table, "predict", ["features": ["tenure": 1]], service: "nope").status == 404)
        #expect(await ask(table, "predict", ["features": ["tenure": 1]], endpoint: "nope").status == 404)
        #expect(await ask(table, "predict", ["features": ["tenure": ["nested": 1]]]).status == 400)
        #expect(await ask(try Self.table(enabled: false), "predict", ["features": ["tenure": 1]]).status == 503)
        #expect(await ask(try Self.table(mapping: nil), "predict", ["features": ["tenure": 1]]).status == 503)
    }

    @Test func aRecordThatCannotBeScoredIsIgnoredWithTheReason() async throws {
        let answer = await ask(try Self.table(), "predict-multi", ["items": [["features": ["tenure": 3, "charges": 6]], ["features": ["tenure": 3]]]])
        let results = answer.body["results"]?.arrayValue ?? []
        #expect(results.first?["ignored"] == false)
        #expect(results.last?["ignored"] == true)
        #expect(results.last?["ignoreReason"]?.stringValue?.contains("charges") == true)
    }
}
