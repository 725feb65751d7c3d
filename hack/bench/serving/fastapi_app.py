"""FastAPI + onnxruntime: the serving stack a user would write by hand for the same models.

Same request and answer shapes as the API node (`{"features": {...}}` and `{"items": [...]}`).
Run with: uvicorn fastapi_app:app --workers 2 (ONNX_DIR names the folder with the .onnx files).
"""
import os

import numpy as np
import onnx
import onnxruntime as ort
from fastapi import FastAPI, HTTPException

app = FastAPI()
options = ort.SessionOptions()
options.intra_op_num_threads = 1
sessions = {
    name[: -len(".onnx")]: ort.InferenceSession(os.path.join(os.environ["ONNX_DIR"], name), options, providers=["CPUExecutionProvider"])
    for name in os.listdir(os.environ["ONNX_DIR"])
    if name.endswith(".onnx")
}



def class_labels(path):
    """The classifier's labels, in the order of its probability columns."""
    for node in onnx.load(path).graph.node:
        for attribute in node.attribute:
            if attribute.name == "classlabels_strings":
                return [label.decode() for label in attribute.strings]
            if attribute.name == "classlabels_int64s":
                return [str(label) for label in attribute.ints]
    return []


labels_of = {name: class_labels(os.path.join(os.environ["ONNX_DIR"], name + ".onnx")) for name in sessions}


def score(name, records):
    session = sessions.get(name)
    if session is None:
        raise HTTPException(status_code=404, detail=f"unknown endpoint {name}")
    inputs = {}
    for spec in session.get_inputs():
        values = [record.get(spec.name) for record in records]
        if spec.type == "tensor(string)":
            inputs[spec.name] = np.array(values, dtype=object).reshape(-1, 1)
        else:
            inputs[spec.name] = np.array([np.nan if v is None else v for v in values], dtype=np.float32).reshape(-1, 1)
    labels, probabilities = session.run(None, inputs)
    classes = labels_of[name]
    return [
        {"prediction": str(label), "probas": dict(zip(classes, map(float, row)))}
        for label, row in zip(labels.tolist(), probabilities.tolist())
    ]


@app.post("/{name}/predict")
def predict(name: str, body: dict):
    return {"result": score(name, [body["features"]])[0]}


@app.post("/{name}/predict-multi")
def predict_multi(name: str, body: dict):
    return {"results": score(name, [item["features"] for item in body["items"]])}
