"""Builds the quickstart's two package folders, examples/packages/churn-v1 and churn-v2: a
scikit-learn pipeline (one-hot plan, scaled numbers, a classifier) trained on synthetic churn
data and converted to ONNX with skl2onnx. Run once; the output is committed, so the quickstart
needs no Python.

Usage: python hack/make-quickstart-packages.py   (with the pinned test peers: hack/python-env.sh)
"""
import os

import numpy as np
import pandas as pd
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType, StringTensorType
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "packages")
PLANS = ["basic", "plus", "pro"]


def training_data(rows=4000, seed=11):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "tenure": rng.integers(0, 72, size=rows).astype(np.float32),
        "plan": rng.choice(PLANS, size=rows),
        "monthly_charges": rng.uniform(20, 120, size=rows).astype(np.float32),
    })
    risk = 1.5 - frame["tenure"] / 24 + (frame["monthly_charges"] - 70) / 40 + (frame["plan"] == "basic") * 0.8
    labels = (risk + rng.normal(scale=0.5, size=rows) > 0.5).astype(int).astype(str)
    return frame, labels


def pipeline(classifier):
    columns = ColumnTransformer([
        ("numbers", StandardScaler(), ["tenure", "monthly_charges"]),
        ("plan", OneHotEncoder(handle_unknown="ignore"), ["plan"]),
    ])
    return Pipeline([("columns", columns), ("model", classifier)])


def write_package(version, model, description):
    folder = os.path.join(ROOT, f"churn-{version}")
    os.makedirs(os.path.join(folder, "models"), exist_ok=True)
    inputs = [("tenure", FloatTensorType([None, 1])), ("plan", StringTensorType([None, 1])),
              ("monthly_charges", FloatTensorType([None, 1]))]
    onnx_model = convert_sklearn(model, "churn", initial_types=inputs, options={id(model): {"zipmap": False}})
    with open(os.path.join(folder, "models", "churn.onnx"), "wb") as out:
        out.write(onnx_model.SerializeToString())
    with open(os.path.join(folder, "service.yaml"), "w") as out:
        out.write(f"""# {description}
apiVersion: apideployer.dev/v1alpha1
kind: ServicePackage
service: churn
version: {version}
endpoints:
  - id: predict-churn
    type: prediction
    model: models/churn.onnx
""")


def main():
    frame, labels = training_data()
    write_package("v1", pipeline(LogisticRegression(max_iter=500)).fit(frame, labels),
                  "Churn scoring v1: logistic regression over tenure, plan and monthly charges.")
    write_package("v2", pipeline(GradientBoostingClassifier(n_estimators=60, max_depth=3, random_state=0)).fit(frame, labels),
                  "Churn scoring v2: gradient boosting over tenure, plan and monthly charges.")


if __name__ == "__main__":
    main()
