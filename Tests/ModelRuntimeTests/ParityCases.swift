import DeployerModel
import Foundation
import ModelRuntime

/// ONNX models trained and scored in Python (scikit-learn, XGBoost, LightGBM → skl2onnx /
/// onnxmltools → onnxruntime), generated once per test run by `python/tools/make_parity_cases.py`.
enum ParityCases {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let families = [
        "logistic_binary", "logistic_multiclass", "linear_regression", "ridge", "decision_tree_classifier",
        "decision_tree_regressor", "random_forest_classifier", "random_forest_regressor", "extra_trees_classifier",
        "gradient_boosting_classifier", "gradient_boosting_multiclass", "gradient_boosting_regressor",
        "hist_gradient_boosting_classifier", "hist_gradient_boosting_regressor", "xgboost_classifier", "xgboost_regressor",
        "lightgbm_classifier", "lightgbm_regressor", "pipeline_column_transformer", "pipeline_single_category",
    ]

    /// The folder holding every case, generated on first use.
    static let folder: Task<URL, any Error> = Task {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("parity-\(UUID().uuidString)")
        let python = try shell("bash", [repository.appendingPathComponent("hack/python-env.sh").path]).trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try shell(python, [repository.appendingPathComponent("python/tools/make_parity_cases.py").path, output.path])
        return output
    }

    struct Case {
        let model: Data
        let expected: [String: Any]
    }

    static func load(_ family: String) async throws -> Case {
        let folder = try await folder.value
        let model = try Data(contentsOf: folder.appendingPathComponent(family + ".onnx"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent(family + ".json"))) as! [String: Any]
        return Case(model: model, expected: json)
    }

    /// The model inputs for the case's rows: one [rows, columns] tensor per declared input.
    static func feeds(_ expected: [String: Any]) -> [String: Tensor] {
        let inputs = expected["inputs"] as! [[String: Any]]
        let rows = expected["rows"] as! [[Any]]
        var feeds: [String: Tensor] = [:]
        var column = 0
        for input in inputs {
            let name = input["name"] as! String
            let width = input["columns"] as! Int
            if input["type"] as! String == "string" {
                let values = rows.flatMap { row in (column..<(column + width)).map { row[$0] as! String } }
                feeds[name] = Tensor(.string(values), shape: [rows.count, width])
            } else {
                let values = rows.flatMap { row in (column..<(column + width)).map { (row[$0] as? NSNumber)?.floatValue ?? .nan } }
                feeds[name] = Tensor(.float(values), shape: [rows.count, width])
            }
            column += width
        }
        return feeds
    }

    @discardableResult
    static func shell(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        guard process.waitForExitStatus() == 0 else {
            throw ModelError.invalidModel("\(executable) \(arguments.joined(separator: " ")) failed with \(process.terminationStatus)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
