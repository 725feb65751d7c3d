"""Builds one small ONNX graph per operator, scores random inputs with onnxruntime, and writes
OUT/<case>.onnx and OUT/<case>.json ({"inputs": {name: tensor}, "outputs": {name: tensor}}, where a
tensor is {"type": "float"|"int64"|"string", "shape": [...], "data": [...]}).
ZipMap's sequence-of-maps output is written as a float matrix with "labels".
Usage: python3 make_operator_cases.py OUT
"""
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(11)
F, I, S = TensorProto.FLOAT, TensorProto.INT64, TensorProto.STRING


def info(name, kind, shape):
    return helper.make_tensor_value_info(name, kind, shape)


def graph(nodes, inputs, outputs, initializers=(), ml=True):
    opsets = [helper.make_opsetid("", 17)] + ([helper.make_opsetid("ai.onnx.ml", 3)] if ml else [])
    model = helper.make_model(helper.make_graph(nodes, "g", inputs, outputs, list(initializers)), opset_imports=opsets)
    model.ir_version = 8
    return model


def floats(*shape):
    return rng.normal(size=shape).astype(np.float32)


def cases():
    x = floats(50, 4)
    yield "sigmoid", graph([helper.make_node("Sigmoid", ["x"], ["y"])], [info("x", F, [None, 4])], [info("y", F, None)]), {"x": x}
    yield "softmax", graph([helper.make_node("Softmax", ["x"], ["y"])], [info("x", F, [None, 4])], [info("y", F, None)]), {"x": x}
    yield "argmax", graph([helper.make_node("ArgMax", ["x"], ["y"], axis=1)], [info("x", F, [None, 4])], [info("y", I, None)]), {"x": x}
    w = numpy_helper.from_array(floats(4, 3), "w")
    yield "matmul", graph([helper.make_node("MatMul", ["x", "w"], ["y"])], [info("x", F, [None, 4])], [info("y", F, None)], [w]), {"x": x}
    b = numpy_helper.from_array(floats(3), "b")
    wt = numpy_helper.from_array(floats(3, 4), "wt")
    yield "gemm", graph([helper.make_node("Gemm", ["x", "wt", "b"], ["y"], transB=1, alpha=0.5, beta=2.0)],
                        [info("x", F, [None, 4])], [info("y", F, None)], [wt, b]), {"x": x}
    yield "add_broadcast", graph([helper.make_node("Add", ["x", "b4"], ["y"])], [info("x", F, [None, 4])], [info("y", F, None)],
                                 [numpy_helper.from_array(floats(4), "b4")]), {"x": x}
    yield "binarizer", graph([helper.make_node("Binarizer", ["x"], ["y"], domain="ai.onnx.ml", threshold=0.2)],
                             [info("x", F, [None, 4])], [info("y", F, None)]), {"x": x}
    indices = numpy_helper.from_array(np.array([3, 0], dtype=np.int64), "idx")
    yield "array_feature_extractor", graph([helper.make_node("ArrayFeatureExtractor", ["x", "idx"], ["y"], domain="ai.onnx.ml")],
                                           [info("x", F, [None, 4])], [info("y", F, None)], [indices]), {"x": x}
    yield "feature_vectorizer", graph([helper.make_node("FeatureVectorizer", ["a", "c"], ["y"], domain="ai.onnx.ml", inputdimensions=[2, 3])],
                                      [info("a", F, [None, 2]), info("c", F, [None, 3])], [info("y", F, None)]), {"a": floats(20, 2), "c": floats(20, 3)}
    words = np.array([["red"], ["green"], ["blue"], ["mauve"]] * 5, dtype=object)
    yield "label_encoder", graph([helper.make_node("LabelEncoder", ["s"], ["y"], domain="ai.onnx.ml", keys_strings=["red", "green", "blue"],
                                                    values_int64s=[1, 2, 3], default_int64=-7)],
                                 [info("s", S, [None, 1])], [info("y", I, None)]), {"s": words}
    probabilities = np.abs(floats(10, 3))
    yield "zipmap", graph([helper.make_node("ZipMap", ["p"], ["y"], domain="ai.onnx.ml", classlabels_strings=["a", "b", "c"])],
                          [info("p", F, [None, 3])], [helper.make_value_info("y", helper.make_sequence_type_proto(
                              helper.make_map_type_proto(S, helper.make_tensor_type_proto(F, []))))]), {"p": probabilities}
    yield "cast_flatten_concat", graph([
        helper.make_node("Cast", ["n"], ["nf"], to=F), helper.make_node("Concat", ["x", "nf"], ["c"], axis=1),
        helper.make_node("Flatten", ["c"], ["y"], axis=1)],
        [info("x", F, [None, 4]), info("n", I, [None, 1])], [info("y", F, None)], ml=False), {"x": x, "n": rng.integers(0, 9, (50, 1))}


def encode(value):
    if isinstance(value, list):  # ZipMap: list of dicts
        labels = list(value[0].keys())
        return {"type": "float", "shape": [len(value), len(labels)], "labels": labels,
                "data": [float(row[label]) for row in value for label in labels]}
    array = np.asarray(value)
    kind = "string" if array.dtype == object else ("int64" if array.dtype.kind in "iu" else "float")
    data = array.reshape(-1).tolist()
    return {"type": kind, "shape": list(array.shape), "data": [str(v) for v in data] if kind == "string" else data}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    names = []
    for name, model, feeds in cases():
        path = os.path.join(out, name + ".onnx")
        onnx.save(model, path)
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        results = session.run(None, feeds)
        outputs = {o.name: encode(r) for o, r in zip(session.get_outputs(), results)}
        with open(os.path.join(out, name + ".json"), "w") as handle:
            json.dump({"inputs": {k: encode(v) for k, v in feeds.items()}, "outputs": outputs}, handle)
        names.append(name)
    print(" ".join(names))


if __name__ == "__main__":
    main()
