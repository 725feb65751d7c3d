import Foundation
import ModelRuntime
import Testing

/// Each operator, alone in a small graph, gives onnxruntime's outputs on random inputs.
@Suite struct OperatorTests {
    static let cases = [
        "sigmoid", "softmax", "argmax", "matmul", "gemm", "add_broadcast", "binarizer", "array_feature_extractor",
        "feature_vectorizer", "label_encoder", "zipmap", "cast_flatten_concat",
    ]

    static let folder: Task<URL, any Error> = Task {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("operators-\(UUID().uuidString)")
        let python = try ParityCases.shell("bash", [ParityCases.repository.appendingPathComponent("hack/python-env.sh").path])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try ParityCases.shell(python, [ParityCases.repository.appendingPathComponent("python/tools/make_operator_cases.py").path, output.path])
        return output
    }

    static func tensor(_ json: [String: Any]) -> Tensor {
        let shape = json["shape"] as! [Int]
        let data = json["data"] as! [Any]
        switch json["type"] as! String {
        case "string": return Tensor(.string(data.map { "\($0)" }), shape: shape)
        case "int64": return Tensor(.int64(data.map { ($0 as! NSNumber).int64Value }), shape: shape)
        default: return Tensor(.float(data.map { ($0 as! NSNumber).floatValue }), shape: shape, columnLabels: json["labels"] as? [String])
        }
    }

    @Test(arguments: cases)
    func matchesOnnxRuntime(name: String) async throws {
        let folder = try await Self.folder.value
        let model = try CompiledModel(onnx: try Data(contentsOf: folder.appendingPathComponent(name + ".onnx")))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent(name + ".json"))) as! [String: Any]
        let inputs = (json["inputs"] as! [String: [String: Any]]).mapValues(Self.tensor)
        let outputs = try model.evaluate(inputs)
        for (outputName, expectedJSON) in json["outputs"] as! [String: [String: Any]] {
            let expected = Self.tensor(expectedJSON)
            let actual = try #require(outputs[outputName])
            #expect(actual.shape.reduce(1, *) == expected.shape.reduce(1, *), "\(outputName) shape \(actual.shape) vs \(expected.shape)")
            #expect(actual.columnLabels == expected.columnLabels)
            switch expected.storage {
            case .float(let values):
                let worst = zip(try actual.floats(), values).map { abs($0 - $1) }.max() ?? 0
                #expect(worst <= 1e-5, "\(outputName): largest difference \(worst)")
            default:
                #expect(actual.storage == expected.storage, "\(outputName) differs")
            }
        }
    }
}
