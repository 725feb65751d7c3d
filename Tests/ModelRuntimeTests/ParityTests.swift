import Foundation
import ModelRuntime
import Testing

/// Our predictions equal onnxruntime's on 1,000 rows per model family: identical labels,
/// probabilities within 1e-5; regression values within 1e-5 of the output's scale (largest
/// magnitude), since float32 sums of large terms that cancel differ with summation order.
@Suite struct ParityTests {
    @Test(arguments: ParityCases.families)
    func matchesOnnxRuntime(family: String) async throws {
        let parityCase = try await ParityCases.load(family)
        let model = try CompiledModel(onnx: parityCase.model)
        let outputs = try model.evaluate(ParityCases.feeds(parityCase.expected))
        let names = parityCase.expected["outputs"] as! [String]
        let first = try #require(outputs[names[0]])
        let expectedFirst = parityCase.expected["labels"] as! [Any]
        #expect(expectedFirst.count == 1000)
        if let probabilities = parityCase.expected["probabilities"] as? [[Double]] {
            let labels: [String] = if case .string(let values) = first.storage { values } else { try first.int64s().map { String($0) } }
            let expectedLabels = expectedFirst.map { "\($0)" }
            let mismatched = zip(labels, expectedLabels).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
            #expect(mismatched.isEmpty, "\(mismatched.count) labels differ, first rows \(mismatched.prefix(5))")
            let scores = try #require(outputs[names[1]]).floats()
            let width = probabilities.first?.count ?? 0
            #expect(scores.count == probabilities.count * width, "score shape differs")
            var worst = 0.0
            for (row, expectedRow) in probabilities.enumerated() {
                for (column, value) in expectedRow.enumerated() {
                    worst = max(worst, abs(Double(scores[row * width + column]) - value))
                }
            }
            #expect(worst <= 1e-5, "largest probability difference \(worst)")
        } else {
            let values = try first.floats()
            let expected = expectedFirst.map { ($0 as! NSNumber).doubleValue }
            #expect(values.count == expected.count)
            let scale = max(1, expected.map(abs).max() ?? 1)
            let worst = zip(values, expected).map { abs(Double($0) - $1) }.max() ?? 0
            #expect(worst <= 1e-5 * scale, "largest difference \(worst) at output scale \(scale)")
        }
    }
}
