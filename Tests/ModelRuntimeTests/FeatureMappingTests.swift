import Foundation
import ModelRuntime
import Testing

/// Query features reach the right model inputs, and outputs become predictions.
@Suite struct FeatureMappingTests {
    @Test func perFeatureInputsMatchTheParityPipeline() async throws {
        let parityCase = try await ParityCases.load("pipeline_column_transformer")
        let model = try CompiledModel(onnx: parityCase.model)
        let mapping = try FeatureMapping(model: model, featureOrder: nil)
        #expect(mapping.featureNames == ["n0", "n1", "n2", "n3", "plan", "region"])
        let rows = (parityCase.expected["rows"] as! [[Any]]).prefix(50).map { row -> [String: FeatureValue] in
            var features: [String: FeatureValue] = [:]
            for (index, name) in mapping.featureNames.enumerated() {
                if let number = row[index] as? NSNumber { features[name] = .number(number.doubleValue) }
                if let text = row[index] as? String { features[name] = .string(text) }
            }
            return features
        }
        // The four numeric inputs that one Concat joins are one feed (the Concat is not run).
        #expect(model.feeds.map(\.inputs) == [[0, 1, 2, 3], [4], [5]])
        let reader = try PredictionReader(model: model, classes: ["stays", "churns"])
        let expectedLabels = (parityCase.expected["labels"] as! [Any]).prefix(50).map { ["stays", "churns"][($0 as! NSNumber).intValue] }
        let expectedProbabilities = (parityCase.expected["probabilities"] as! [[Double]]).prefix(50)
        // Input by input through every node, and feed by feed as the node serves queries.
        let byFeed = try model.evaluate(feeds: mapping.feeds(for: FeatureRecords(Array(rows))))
        for outputs in [try model.evaluate(mapping.inputs(for: Array(rows))), Dictionary(uniqueKeysWithValues: zip(model.outputs.map(\.name), byFeed))] {
            let predictions = try reader.predictions(from: outputs, rows: rows.count)
            #expect(predictions.map(\.prediction) == expectedLabels.map { .label($0) })
            for (prediction, expected) in zip(predictions, expectedProbabilities) {
                #expect(prediction.classNames == ["stays", "churns"])
                #expect(zip(prediction.probabilities ?? [], expected).allSatisfy { abs($0 - $1) < 1e-5 })
            }
        }
    }

    @Test func aWrongFeatureTypeIsNamed() async throws {
        let model = try CompiledModel(onnx: try await ParityCases.load("pipeline_column_transformer").model)
        let mapping = try FeatureMapping(model: model, featureOrder: nil)
        #expect(throws: FeatureError(feature: "n2", reason: "a number is expected, got \"high\"")) {
            try mapping.inputs(for: [["n2": .string("high")]])
        }
        // Missing features are imputed (numbers) or unknown categories (strings): still scored.
        let outputs = try model.evaluate(mapping.inputs(for: [[:]]))
        #expect(try PredictionReader(model: model, classes: nil).predictions(from: outputs, rows: 1).count == 1)
    }

    @Test func aTensorModelNeedsItsColumnNames() async throws {
        let model = try CompiledModel(onnx: try await ParityCases.load("random_forest_regressor").model)
        #expect(throws: ModelError.self) { try FeatureMapping(model: model, featureOrder: nil) }
        #expect(throws: ModelError.self) { try FeatureMapping(model: model, featureOrder: ["a", "b"]) }
        let names = (0..<8).map { "f\($0)" }
        let mapping = try FeatureMapping(model: model, featureOrder: names)
        let row = Dictionary(uniqueKeysWithValues: names.map { ($0, FeatureValue.number(0.5)) })
        let outputs = try model.evaluate(mapping.inputs(for: [row]))
        let prediction = try PredictionReader(model: model, classes: nil).predictions(from: outputs, rows: 1)
        guard case .number = prediction.first?.prediction else {
            Issue.record("a regressor gives a number")
            return
        }
    }
}
