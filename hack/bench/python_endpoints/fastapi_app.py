"""FastAPI + uvicorn serving the same function and pickled model as the benchmark package, the
way a user would write it by hand. Run with: uvicorn fastapi_app:app --workers N (PACKAGE_DIR
names the package folder)."""
import os
import pickle
import sys

from fastapi import FastAPI

folder = os.environ["PACKAGE_DIR"]
sys.path.insert(0, os.path.join(folder, "code"))
from functions import score as score_function  # noqa: E402

with open(os.path.join(folder, "models", "churn.pkl"), "rb") as handle:
    model = pickle.load(handle)
classes = [str(c) for c in model.classes_]
app = FastAPI()


@app.post("/score/run")
def run(body: dict):
    return {"response": score_function(**body)}


@app.post("/churn/predict")
def predict(body: dict):
    record = body["features"]
    row = [[float(record["tenure"]), float(record["charges"]), float(record["calls"])]]
    probabilities = model.predict_proba(row)[0]
    return {"result": {"prediction": str(model.predict(row)[0]), "probas": dict(zip(classes, map(float, probabilities)))}}
