import Foundation
import ModelRuntime
import Testing

/// Tree ensembles beyond what the converters write: every branch mode in one model, trees of
/// different depths, a tree that is a single leaf and missing values with and without a
/// missing-value track, compared with onnxruntime on the same rows.
@Suite struct TreeWalkTests {
    /// Builds the model in Python with the onnx helper API (`script` sets `model`) and reads
    /// onnxruntime's output for `rows` (none when empty).
    static func modelAndReference(_ script: String, rows: [[Float]]) throws -> (model: Data, expected: [Float]) {
        let python = try ParityCases.shell("bash", [ParityCases.repository.appendingPathComponent("hack/python-env.sh").path])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("trees-\(UUID().uuidString).onnx")
        defer { try? FileManager.default.removeItem(at: output) }
        let rowsText = "[" + rows.map { "[" + $0.map { $0.isNaN ? "float('nan')" : "\($0)" }.joined(separator: ", ") + "]" }.joined(separator: ", ") + "]"
        let program = """
            import json, sys
            import numpy as np, onnx, onnxruntime
            from onnx import helper, TensorProto
            \(script)
            onnx.save(model, sys.argv[1])
            rows = \(rowsText)
            if rows:
                session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
                result = session.run(None, {"x": np.array(rows, dtype=np.float32)})
            print(json.dumps([float(v) for v in np.asarray(result[-1]).ravel()] if rows else []))
            """
        let file = output.appendingPathExtension("py")
        try program.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let printed = try ParityCases.shell(python, [file.path, output.path])
        let expected = try JSONDecoder().decode([Double].self, from: Data(printed.utf8)).map(Float.init)
        return (try Data(contentsOf: output), expected)
    }

    /// Tree 0: `f0 < 0.5` then (false way) `f1 >= 5` with missing values tracked the true way —
    /// leaves at depths 1 and 2. Tree 1: `f1 != 2` (true for a missing value, as in C), a leaf
    /// with votes for both targets. Tree 2: `f0 == 0.2`, then `f1 > 1`. Tree 3: a single leaf. Tree 4: a chain
    /// four branches deep (`f0 <= 0`, `<= 0.3`, `<= 0.6`, then `f1 <= 4`), too uneven to be laid
    /// out by level, so it is walked node by node.
    static let mixedModes = """
        node = helper.make_node("TreeEnsembleRegressor", ["x"], ["y"], domain="ai.onnx.ml", name="trees",
            nodes_treeids=[0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4],
            nodes_nodeids=[0, 1, 2, 3, 4, 0, 1, 2, 0, 1, 2, 3, 4, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8],
            nodes_featureids=[0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0],
            nodes_values=[0.5, 0, 5.0, 0, 0, 2.0, 0, 0, 0.2, 1.0, 0, 0, 0, 0, 0, 0, 0.3, 0, 0.6, 0, 4.0, 0, 0],
            nodes_modes=["BRANCH_LT", "LEAF", "BRANCH_GTE", "LEAF", "LEAF", "BRANCH_NEQ", "LEAF", "LEAF",
                         "BRANCH_EQ", "BRANCH_GT", "LEAF", "LEAF", "LEAF", "LEAF",
                         "BRANCH_LEQ", "LEAF", "BRANCH_LEQ", "LEAF", "BRANCH_LEQ", "LEAF", "BRANCH_LEQ", "LEAF", "LEAF"],
            nodes_truenodeids=[1, 0, 3, 0, 0, 1, 0, 0, 1, 2, 0, 0, 0, 0, 1, 0, 3, 0, 5, 0, 7, 0, 0],
            nodes_falsenodeids=[2, 0, 4, 0, 0, 2, 0, 0, 4, 3, 0, 0, 0, 0, 2, 0, 4, 0, 6, 0, 8, 0, 0],
            nodes_missing_value_tracks_true=[0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0],
            target_treeids=[0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 4, 4, 4, 4, 4],
            target_nodeids=[1, 3, 4, 1, 1, 2, 2, 3, 4, 0, 1, 3, 5, 7, 8],
            target_ids=[0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            target_weights=[1, 10, 20, 100, 5, 1000, 10000, 20000, 40000, 0.25, 0.5, 0.75, 1.5, 3, 6], n_targets=2)
        graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2])],
                                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 2])])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)])
        """

    @Test func everyBranchModeAndMissingValueFollowsOnnxRuntime() throws {
        let rows: [[Float]] = [
            [0.2, 2.0], [0.2, 0.5], [0.7, 3.0], [0.7, 7.0], [0.2, .nan], [.nan, 7.0], [.nan, .nan], [0.5, 5.0], [-1, 2.0],
        ]
        let (bytes, expected) = try Self.modelAndReference(Self.mixedModes, rows: rows)
        let model = try CompiledModel(onnx: bytes)
        // Whole batches (more rows than one block of the walk) and single rows agree.
        let repeated = Array(repeating: rows, count: 5).flatMap { $0 }
        let batch = try model.evaluate(["x": Tensor(.float(repeated.flatMap { $0 }), shape: [repeated.count, 2])])
        #expect(try batch["y"]?.floats() == Array(repeating: expected, count: 5).flatMap { $0 })
        for (index, row) in rows.enumerated() {
            let single = try model.evaluate(["x": Tensor(.float(row), shape: [1, 2])])
            #expect(try single["y"]?.floats() == Array(expected[(index * 2)..<(index * 2 + 2)]), "row \(row)")
        }
    }

    @Test(arguments: [
        ("nodes_featureids=[-1, 0]", "reads feature -1"),
        ("target_ids=[3]", "a vote is for score 3, but there are 1"),
    ])
    func whatAWalkWouldReadOrWriteOutOfBoundsIsRefusedAtLoad(attribute: String, message: String) throws {
        var attributes = [
            "nodes_treeids=[0, 0]", "nodes_nodeids=[0, 1]", "nodes_featureids=[0, 0]", "nodes_values=[0.5, 0.0]",
            "nodes_modes=['BRANCH_LEQ', 'LEAF']", "nodes_truenodeids=[1, 0]", "nodes_falsenodeids=[1, 0]",
            "target_treeids=[0]", "target_nodeids=[1]", "target_ids=[0]", "target_weights=[1.0]", "n_targets=1",
        ]
        let name = attribute.prefix { $0 != "=" }
        attributes = attributes.map { $0.hasPrefix(name + "=") ? attribute : $0 }
        let (bytes, _) = try Self.modelAndReference("""
            node = helper.make_node("TreeEnsembleRegressor", ["x"], ["y"], domain="ai.onnx.ml", name="trees", \(attributes.joined(separator: ", ")))
            graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 1])],
                                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 2])])
            model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)])
            """, rows: [])
        let error = #expect(throws: ModelError.self) { try CompiledModel(onnx: bytes) }
        #expect(error.map { "\($0)" }?.contains(message) == true, "\(error.map { "\($0)" } ?? "")")
    }

    @Test func aTreeThatLeadsBackIntoItselfIsRefusedAtLoad() throws {
        let (bytes, _) = try Self.modelAndReference("""
            node = helper.make_node("TreeEnsembleRegressor", ["x"], ["y"], domain="ai.onnx.ml", name="trees",
                nodes_treeids=[0, 0, 0], nodes_nodeids=[0, 1, 2], nodes_featureids=[0, 0, 0], nodes_values=[0.5, 0.7, 0.0],
                nodes_modes=["BRANCH_LEQ", "BRANCH_LEQ", "LEAF"], nodes_truenodeids=[1, 0, 0], nodes_falsenodeids=[2, 2, 0],
                target_treeids=[0], target_nodeids=[2], target_ids=[0], target_weights=[1.0], n_targets=1)
            graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 1])],
                                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 2])])
            model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)])
            """, rows: [])
        let error = #expect(throws: ModelError.self) { try CompiledModel(onnx: bytes) }
        #expect(error.map { "\($0)" }?.contains("tree 0 has a branch that leads back into itself") == true)
    }
}
