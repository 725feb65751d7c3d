"""Trains the two serving-benchmark models and writes everything each server needs.

Usage: make_models.py OUT_DIR

Writes OUT_DIR/package/ (an API node package with endpoints `pipeline` and `boosting`),
OUT_DIR/mlflow-pipeline/ and OUT_DIR/mlflow-boosting/ (MLflow scikit-learn models),
OUT_DIR/onnx/ (the same ONNX files, for the FastAPI server) and OUT_DIR/bodies/ (request bodies:
single rows and 1,000-row batches in each server's format).
"""
import json
import os
import sys

import mlflow.sklearn
import numpy as np
import pandas as pd
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType, StringTensorType
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

NUMERIC = [f"f{i}" for i in range(10)]
CATEGORICAL = ["plan", "region"]
PLANS = ["basic", "plus", "pro", "team", "enterprise"]
REGIONS = ["north", "south", "east", "west", "central", "islands", "coast", "mountains"]


def frame(rows, rng):
    data = {name: rng.normal(size=rows).astype(np.float32) for name in NUMERIC}
    data["plan"] = rng.choice(PLANS, size=rows)
    data["region"] = rng.choice(REGIONS, size=rows)
    return pd.DataFrame(data)


def preprocessing():
    numeric = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    return ColumnTransformer([("num", numeric, NUMERIC), ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL)])


def main(out):
    rng = np.random.default_rng(7)
    train = frame(5000, rng)
    score = train["f0"] + 0.5 * train["f1"] - train["f2"] * train["f3"] + (train["plan"] == "pro") * 1.5
    labels = np.where(score > 0.3, "churn", "stay")
    models = {
        "pipeline": Pipeline([("prep", preprocessing()), ("model", LogisticRegression(max_iter=500))]),
        "boosting": Pipeline([("prep", preprocessing()), ("model", GradientBoostingClassifier(n_estimators=100, random_state=0))]),
    }
    initial_types = [(name, FloatTensorType([None, 1])) for name in NUMERIC] + [(name, StringTensorType([None, 1])) for name in CATEGORICAL]
    os.makedirs(f"{out}/package/models", exist_ok=True)
    os.makedirs(f"{out}/onnx", exist_ok=True)
    os.makedirs(f"{out}/bodies", exist_ok=True)
    for name, model in models.items():
        model.fit(train, labels)
        onnx_model = convert_sklearn(model, name, initial_types=initial_types, options={id(model): {"zipmap": False}})
        for path in (f"{out}/package/models/{name}.onnx", f"{out}/onnx/{name}.onnx"):
            with open(path, "wb") as handle:
                handle.write(onnx_model.SerializeToString())
        mlflow.sklearn.save_model(model, f"{out}/mlflow-{name}", input_example=train.head(2), skops_trusted_types=["numpy.dtype", "sklearn.tree._tree.Tree"])
    features = NUMERIC + CATEGORICAL
    with open(f"{out}/package/service.yaml", "w") as handle:
        handle.write("apiVersion: apideployer.dev/v1alpha1\nkind: ServicePackage\nservice: bench\nversion: v1\nendpoints:\n")
        for name in models:
            handle.write(f"  - id: {name}\n    type: prediction\n    model: models/{name}.onnx\n    features: [{', '.join(features)}]\n")

    queries = frame(1000, np.random.default_rng(11))
    records = [{name: (float(row[name]) if name in NUMERIC else row[name]) for name in features} for _, row in queries.iterrows()]
    bodies = {
        "single": {"features": records[0]},
        "batch": {"items": [{"features": record} for record in records]},
        "mlflow-single": {"dataframe_split": {"columns": features, "data": [[records[0][name] for name in features]]}},
        "mlflow-batch": {"dataframe_split": {"columns": features, "data": [[record[name] for name in features] for record in records]}},
    }
    for name, body in bodies.items():
        with open(f"{out}/bodies/{name}.json", "w") as handle:
            json.dump(body, handle, separators=(",", ":"))


if __name__ == "__main__":
    main(sys.argv[1])
