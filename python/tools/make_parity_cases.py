"""Builds ONNX parity cases for the native evaluator.

For each model family: train on a synthetic data set, convert to ONNX (skl2onnx / onnxmltools),
score 1,000 held-out rows with onnxruntime, and write
  OUT/<family>.onnx, OUT/<family>.json  ({"inputs": [...], "rows": [...], "labels": [...], "probabilities": [...] | null,
                                         "predictions": [...] | null})
Usage: python3 make_parity_cases.py OUT [family ...]
"""
import json
import os
import sys

import numpy as np
import onnxruntime as ort
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import (ExtraTreesClassifier, GradientBoostingClassifier, GradientBoostingRegressor,
                              HistGradientBoostingClassifier, HistGradientBoostingRegressor, RandomForestClassifier,
                              RandomForestRegressor)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType, StringTensorType

ROWS = 1000
SEED = 7


def numeric(classes=None, n_features=8):
    if classes:
        x, y = make_classification(n_samples=3 * ROWS, n_features=n_features, n_informative=5, n_classes=classes,
                                   random_state=SEED)
    else:
        x, y = make_regression(n_samples=3 * ROWS, n_features=n_features, noise=5.0, random_state=SEED)
    x = x.astype(np.float32)
    return x[:2 * ROWS], y[:2 * ROWS], x[2 * ROWS:]


def sklearn_case(model, classes=None, zipmap=False):
    train_x, train_y, test_x = numeric(classes)
    model.fit(train_x, train_y)
    options = {id(model): {"zipmap": zipmap}} if classes else None
    onnx_model = convert_sklearn(model, initial_types=[("input", FloatTensorType([None, train_x.shape[1]]))], options=options,
                                 target_opset={"": 17, "ai.onnx.ml": 3})
    return onnx_model, {"input": test_x}, [{"name": "input", "type": "float", "columns": test_x.shape[1]}], test_x.tolist()


def booster_case(kind, classes=None):
    from onnxmltools import convert_lightgbm, convert_xgboost
    from onnxmltools.convert.common.data_types import FloatTensorType as MLFloat
    train_x, train_y, test_x = numeric(classes)
    if kind == "xgboost":
        import xgboost
        model = xgboost.XGBClassifier(n_estimators=30, max_depth=4) if classes else xgboost.XGBRegressor(n_estimators=30, max_depth=4)
        model.fit(train_x, train_y)
        onnx_model = convert_xgboost(model, initial_types=[("input", MLFloat([None, train_x.shape[1]]))], target_opset=15)
    else:
        import lightgbm
        model = (lightgbm.LGBMClassifier(n_estimators=30, verbose=-1) if classes
                 else lightgbm.LGBMRegressor(n_estimators=30, verbose=-1))
        model.fit(train_x, train_y)
        onnx_model = convert_lightgbm(model, initial_types=[("input", MLFloat([None, train_x.shape[1]]))], target_opset=15,
                                      zipmap=False)
    return onnx_model, {"input": test_x}, [{"name": "input", "type": "float", "columns": test_x.shape[1]}], test_x.tolist()


def pipeline_case():
    """Imputer + scaler on numeric columns, one-hot (unknown ignored) on string columns, logistic regression."""
    rng = np.random.default_rng(SEED)
    n = 3 * ROWS
    numeric_columns = {f"n{i}": rng.normal(size=n).astype(np.float32) for i in range(4)}
    for column in numeric_columns.values():
        column[rng.random(n) < 0.1] = np.nan
    plans = np.array(["basic", "plus", "premium"])[rng.integers(0, 3, n)]
    regions = np.array(["north", "south", "east", "west"])[rng.integers(0, 4, n)]
    score = numeric_columns["n0"] + (plans == "premium") * 1.5 - (regions == "west") + rng.normal(scale=0.5, size=n)
    y = (np.nan_to_num(score) > 0.3).astype(int)
    test_regions = regions.copy()
    test_regions[2 * ROWS::7] = "unseen"  # categories never seen in training
    import pandas as pd
    frame = pd.DataFrame({**numeric_columns, "plan": plans, "region": regions})
    test = pd.DataFrame({**{k: v[2 * ROWS:] for k, v in numeric_columns.items()}, "plan": plans[2 * ROWS:],
                         "region": test_regions[2 * ROWS:]})
    pipeline = Pipeline([
        ("columns", ColumnTransformer([
            ("numeric", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]),
             list(numeric_columns)),
            ("categorical", OneHotEncoder(handle_unknown="ignore"), ["plan", "region"]),
        ])),
        ("model", LogisticRegression(max_iter=500)),
    ])
    pipeline.fit(frame[:2 * ROWS], y[:2 * ROWS])
    initial = [(name, FloatTensorType([None, 1])) for name in numeric_columns] + [
        ("plan", StringTensorType([None, 1])), ("region", StringTensorType([None, 1]))]
    onnx_model = convert_sklearn(pipeline, initial_types=initial, options={id(pipeline.steps[-1][1]): {"zipmap": False}},
                                 target_opset={"": 17, "ai.onnx.ml": 3})
    feeds = {name: test[name].to_numpy().astype(np.float32).reshape(-1, 1) for name in numeric_columns}
    feeds.update({name: test[name].to_numpy().astype(object).reshape(-1, 1) for name in ["plan", "region"]})
    inputs = [{"name": name, "type": "float", "columns": 1} for name in numeric_columns] + [
        {"name": name, "type": "string", "columns": 1} for name in ["plan", "region"]]
    rows = [[None if np.isnan(v) else float(v) for v in row] + [p, r]
            for row, p, r in zip(test[list(numeric_columns)].to_numpy(), test["plan"], test["region"])]
    return onnx_model, feeds, inputs, rows


def single_category_case():
    """One-hot on a single string column (skl2onnx selects it with Gather), scaled numbers, logistic regression."""
    rng = np.random.default_rng(SEED)
    n = 3 * ROWS
    import pandas as pd
    frame = pd.DataFrame({"tenure": rng.uniform(0, 72, n).astype(np.float32),
                          "charges": rng.uniform(20, 120, n).astype(np.float32),
                          "plan": np.array(["basic", "plus", "pro"])[rng.integers(0, 3, n)]})
    y = ((frame["charges"] - frame["tenure"]) / 40 + (frame["plan"] == "basic") + rng.normal(scale=0.4, size=n) > 0.6).astype(int)
    pipeline = Pipeline([
        ("columns", ColumnTransformer([("numbers", StandardScaler(), ["tenure", "charges"]),
                                       ("plan", OneHotEncoder(handle_unknown="ignore"), ["plan"])])),
        ("model", LogisticRegression(max_iter=500)),
    ])
    pipeline.fit(frame[:2 * ROWS], y[:2 * ROWS])
    test = frame[2 * ROWS:]
    initial = [("tenure", FloatTensorType([None, 1])), ("plan", StringTensorType([None, 1])), ("charges", FloatTensorType([None, 1]))]
    onnx_model = convert_sklearn(pipeline, initial_types=initial, options={id(pipeline.steps[-1][1]): {"zipmap": False}})
    feeds = {"tenure": test["tenure"].to_numpy().reshape(-1, 1), "charges": test["charges"].to_numpy().reshape(-1, 1),
             "plan": test["plan"].to_numpy().astype(object).reshape(-1, 1)}
    inputs = [{"name": "tenure", "type": "float", "columns": 1}, {"name": "plan", "type": "string", "columns": 1},
              {"name": "charges", "type": "float", "columns": 1}]
    rows = [[float(t), p, float(c)] for t, p, c in zip(test["tenure"], test["plan"], test["charges"])]
    return onnx_model, feeds, inputs, rows


CASES = {
    "logistic_binary": lambda: sklearn_case(LogisticRegression(max_iter=500), classes=2),
    "logistic_multiclass": lambda: sklearn_case(LogisticRegression(max_iter=500), classes=4),
    "linear_regression": lambda: sklearn_case(LinearRegression()),
    "ridge": lambda: sklearn_case(Ridge(alpha=0.5)),
    "decision_tree_classifier": lambda: sklearn_case(DecisionTreeClassifier(max_depth=6, random_state=SEED), classes=3),
    "decision_tree_regressor": lambda: sklearn_case(DecisionTreeRegressor(max_depth=6, random_state=SEED)),
    "random_forest_classifier": lambda: sklearn_case(RandomForestClassifier(n_estimators=20, max_depth=6, random_state=SEED), classes=3),
    "random_forest_regressor": lambda: sklearn_case(RandomForestRegressor(n_estimators=20, max_depth=6, random_state=SEED)),
    "extra_trees_classifier": lambda: sklearn_case(ExtraTreesClassifier(n_estimators=20, max_depth=6, random_state=SEED), classes=2),
    "gradient_boosting_classifier": lambda: sklearn_case(GradientBoostingClassifier(n_estimators=30, random_state=SEED), classes=2),
    "gradient_boosting_multiclass": lambda: sklearn_case(GradientBoostingClassifier(n_estimators=20, random_state=SEED), classes=3),
    "gradient_boosting_regressor": lambda: sklearn_case(GradientBoostingRegressor(n_estimators=30, random_state=SEED)),
    "hist_gradient_boosting_classifier": lambda: sklearn_case(HistGradientBoostingClassifier(max_iter=30, random_state=SEED), classes=2),
    "hist_gradient_boosting_regressor": lambda: sklearn_case(HistGradientBoostingRegressor(max_iter=30, random_state=SEED)),
    "xgboost_classifier": lambda: booster_case("xgboost", classes=2),
    "xgboost_regressor": lambda: booster_case("xgboost"),
    "lightgbm_classifier": lambda: booster_case("lightgbm", classes=3),
    "lightgbm_regressor": lambda: booster_case("lightgbm"),
    "pipeline_column_transformer": pipeline_case,
    "pipeline_single_category": single_category_case,
}


def write_case(out, name):
    onnx_model, feeds, inputs, rows = CASES[name]()
    path = os.path.join(out, name + ".onnx")
    with open(path, "wb") as handle:
        handle.write(onnx_model.SerializeToString())
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    outputs = session.run(None, feeds)
    names = [o.name for o in session.get_outputs()]
    labels = outputs[0].reshape(-1).tolist()
    probabilities = outputs[1].tolist() if len(outputs) > 1 and hasattr(outputs[1], "tolist") else None
    operators = sorted({f"{n.domain or 'ai.onnx'}:{n.op_type}" for n in onnx_model.graph.node})
    with open(os.path.join(out, name + ".json"), "w") as handle:
        json.dump({"inputs": inputs, "rows": rows, "outputs": names, "labels": labels,
                   "probabilities": probabilities, "operators": operators}, handle)
    return operators


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name in sys.argv[2:] or CASES:
        print(name, " ".join(write_case(out, name)), flush=True)


if __name__ == "__main__":
    main()
