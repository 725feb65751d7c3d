import APINode
import DeployerModel
import Foundation
import Testing

@Suite struct DispatcherTests {
    let split = GenerationMapping(strategy: .hashBased, entries: [.init(generation: "v1", proba: 0.9), .init(generation: "v2", proba: 0.1)])

    @Test func theSameKeyAlwaysLandsOnTheSameGeneration() throws {
        let dispatcher = Dispatcher(mapping: split, available: ["v1", "v2"])
        var generator = SplitMix64(seed: 1)
        for key in (0..<50).map({ "customer-\($0)" }) {
            let first = try dispatcher.choose(forcedGeneration: nil, dispatchKey: key, using: &generator)
            for _ in 0..<1_000 { #expect(try dispatcher.choose(forcedGeneration: nil, dispatchKey: key, using: &generator) == first) }
        }
    }

    @Test func hashDispatchFollowsTheWeightsWithin2Percent() throws {
        let dispatcher = Dispatcher(mapping: split, available: ["v1", "v2"])
        var generator = SplitMix64(seed: 2)
        var counts: [String: Int] = [:]
        for index in 0..<100_000 {
            let key = "\(index)-\(generator.next())"
            counts[try dispatcher.choose(forcedGeneration: nil, dispatchKey: key, using: &generator), default: 0] += 1
        }
        #expect(abs(Double(counts["v1"] ?? 0) / 100_000 - 0.9) < 0.02)
        #expect(abs(Double(counts["v2"] ?? 0) / 100_000 - 0.1) < 0.02)
    }

    @Test func randomDispatchFollowsTheWeights() throws {
        let mapping = GenerationMapping(entries: [.init(generation: "a", proba: 0.25), .init(generation: "b", proba: 0.75)])
        let dispatcher = Dispatcher(mapping: mapping, available: ["a", "b"])
        var generator = SplitMix64(seed: 3)
        let picks = try (0..<40_000).map { _ in try dispatcher.choose(forcedGeneration: nil, dispatchKey: nil, using: &generator) }
        #expect(abs(Double(picks.filter { $0 == "a" }.count) / 40_000 - 0.25) < 0.02)
    }

    @Test func aHashMappedServiceNeedsAKeyAndForcingNeedsAnAvailableGeneration() throws {
        let dispatcher = Dispatcher(mapping: split, available: ["v1", "v2", "v0"])
        var generator = SplitMix64(seed: 4)
        #expect(throws: DispatchError.dispatchKeyRequired) { try dispatcher.choose(forcedGeneration: nil, dispatchKey: nil, using: &generator) }
        #expect(try dispatcher.choose(forcedGeneration: "v0", dispatchKey: nil, using: &generator) == "v0")
        #expect(throws: DispatchError.unknownGeneration("v9")) { try dispatcher.choose(forcedGeneration: "v9", dispatchKey: nil, using: &generator) }
    }

    @Test func mappingsAreValidatedAgainstAvailableGenerations() throws {
        try split.validate(available: ["v1", "v2"])
        #expect(throws: DispatchError.self) { try split.validate(available: ["v1"]) }
        #expect(throws: DispatchError.self) {
            try GenerationMapping(entries: [.init(generation: "v1", proba: 0.5), .init(generation: "v2", proba: 0.4)]).validate(available: ["v1", "v2"])
        }
        #expect(throws: DispatchError.self) { try GenerationMapping(entries: []).validate(available: ["v1"]) }
        let decoded = try JSONDecoder().decode(GenerationMapping.self, from: Data(#"{"entries":[{"generation":"v1","proba":1}]}"#.utf8))
        #expect(decoded == .single("v1"))
    }
}
