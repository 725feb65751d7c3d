import APINode
import DeployerModel
import Foundation
import Testing

/// Random and mutated bodies never crash the query path and always get a precise status.
@Suite struct FuzzTests {
    static let valid = Array(#"{"features":{"tenure":3,"charges":6},"dispatch":{"dispatchKey":"k"},"context":{"a":[1,2,{"b":null}]}}"#.utf8)

    /// A mutation of the valid body: flipped, dropped, inserted or duplicated bytes, or pure noise.
    static func mutated(_ generator: inout SplitMix64) -> [UInt8] {
        var bytes = valid
        switch generator.next() % 5 {
        case 0:
            for _ in 0..<(1 + Int(generator.next() % 4)) {
                bytes[Int(generator.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: generator.next())
            }
        case 1: bytes.removeSubrange(Int(generator.next() % UInt64(bytes.count))..<bytes.count)
        case 2:
            let alphabet = Array(#"{}[]":,0123456789.eE+-truefalsnul\ "#.utf8)
            for _ in 0..<(1 + Int(generator.next() % 6)) {
                bytes.insert(alphabet[Int(generator.next() % UInt64(alphabet.count))], at: Int(generator.next() % UInt64(bytes.count)))
            }
        case 3:
            let start = Int(generator.next() % UInt64(bytes.count))
            bytes.insert(contentsOf: bytes[start...], at: start)
        default: bytes = (0..<Int(generator.next() % 200)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        }
        return bytes
    }

    @Test func fiveThousandBadBodiesThenAGoodOne() async throws {
        let table = try PublicAPITests.table()
        var generator = SplitMix64(seed: 2026)
        var statuses: [Int: Int] = [:]
        for round in 0..<5_000 {
            let body = Self.mutated(&generator)
            let verb = ["predict", "predict-multi", "predict-simple", "predict"][round % 4]
            let answer = await PublicAPI().handle(table, service: "churn", endpoint: "predict-churn", verb: verb, body: body, query: [:], using: &generator)
            statuses[answer.status, default: 0] += 1
            #expect([200, 400, 404, 503].contains(answer.status), "status \(answer.status) for \(String(decoding: body, as: UTF8.self))")
            if answer.status != 200 { #expect(answer.body["message"]?.stringValue?.isEmpty == false) }
        }
        #expect((statuses[400] ?? 0) > 1_000, "most mutations are refused: \(statuses)")
        let good = await PublicAPI().handle(table, service: "churn", endpoint: "predict-churn", verb: "predict", body: Self.valid, query: [:], using: &generator)
        #expect(good.status == 200)
        #expect(good.body["result"]?["prediction"] == .double(3.5))
    }
}
