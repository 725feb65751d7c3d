import Foundation
import ModelRuntime
import Testing

/// Models that cannot be served are refused when they are loaded, with a precise reason.
@Suite struct LoadingTests {
    /// A tiny model built in Python with the onnx helper API (`script` sets `model`).
    static func model(_ script: String) async throws -> Data {
        try TreeWalkTests.modelAndReference(script, rows: []).model
    }

    @Test func anUnsupportedOperatorIsRefusedNamingTheNodeAndOperator() async throws {
        let bytes = try await Self.model("""
            node = helper.make_node("Einsum", ["x", "x"], ["y"], name="mixer", equation="ij,ij->ij")
            graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2])],
                                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 2])])
            model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
            """)
        #expect(throws: ModelError.unsupportedOperator(domain: "", opType: "Einsum", node: "mixer")) {
            try CompiledModel(onnx: bytes)
        }
        let error = #expect(throws: ModelError.self) { try CompiledModel(onnx: bytes) }
        let message = error.map { "\($0)" } ?? ""
        #expect(message.contains("ai.onnx:Einsum"))
        #expect(message.contains("\"mixer\""))
    }

    @Test func bytesThatAreNotAModelAreRefused() {
        #expect(throws: ModelError.self) { try CompiledModel(onnx: Data("not a model".utf8)) }
    }

    @Test func aMissingInputIsReportedByName() async throws {
        let bytes = try await Self.model("""
            node = helper.make_node("Identity", ["x"], ["y"])
            graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2])],
                                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 2])])
            model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
            """)
        let model = try CompiledModel(onnx: bytes)
        #expect(model.inputs.map(\.name) == ["x"])
        #expect(throws: ModelError.missingInput("x")) { try model.evaluate([:]) }
        let result = try model.evaluate(["x": Tensor(.float([1, 2, 3, 4]), shape: [2, 2])])
        #expect(result["y"] == Tensor(.float([1, 2, 3, 4]), shape: [2, 2]))
    }

    @Test func badTreeAttributesAreRefusedAtLoad() async throws {
        let bytes = try await Self.model("""
            node = helper.make_node("TreeEnsembleRegressor", ["x"], ["y"], domain="ai.onnx.ml", name="trees",
                nodes_treeids=[0, 0], nodes_nodeids=[0, 1], nodes_featureids=[0, 0], nodes_values=[0.5, 0.0],
                nodes_modes=["BRANCH_LEQ", "LEAF"], nodes_truenodeids=[1, 0], nodes_falsenodeids=[7, 0],
                target_treeids=[0], target_nodeids=[1], target_ids=[0], target_weights=[1.0], n_targets=1)
            graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 1])],
                                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 1])])
            model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)])
            """)
        let error = #expect(throws: ModelError.self) { try CompiledModel(onnx: bytes) }
        #expect(error.map { "\($0)" }?.contains("points at a missing node") == true)
    }
}
