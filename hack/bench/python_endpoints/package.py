"""Writes the benchmark package: a function, a pickled scikit-learn model behind a prediction
class, and a 1-million-row lookup table. Usage: package.py FOLDER"""
import os
import pickle
import sqlite3
import sys

import numpy as np
from sklearn.ensemble import RandomForestClassifier

FUNCTIONS = '''
def score(tenure, charges):
    return {"risk": round(charges / (tenure + 1.0), 4), "segment": "high" if charges > 70 else "low"}
'''

MODEL = '''
import pickle
from apideployer import package_path

class ChurnModel:
    def __init__(self):
        with open(package_path("models", "churn.pkl"), "rb") as f:
            self.model = pickle.load(f)
        self.classes = [str(c) for c in self.model.classes_]

    def rows(self, records):
        return [[float(r["tenure"]), float(r["charges"]), float(r["calls"])] for r in records]

    def predict(self, records):
        return [str(p) for p in self.model.predict(self.rows(records))]

    def predict_proba(self, records):
        return self.model.predict_proba(self.rows(records))
'''

MANIFEST = '''apiVersion: apideployer.dev/v1alpha1
kind: ServicePackage
service: bench
version: v1
endpoints:
  - id: score
    type: function
    python: {file: code/functions.py, function: score}
  - id: churn
    type: python-prediction
    python: {file: code/model.py, class: ChurnModel}
  - id: features
    type: dataset-lookup
    lookup: {database: data/features.sqlite, table: customer_features, keys: [customer_id]}
'''


def main(folder):
    for sub in ("code", "models", "data"):
        os.makedirs(os.path.join(folder, sub), exist_ok=True)
    open(os.path.join(folder, "service.yaml"), "w").write(MANIFEST)
    open(os.path.join(folder, "code", "functions.py"), "w").write(FUNCTIONS)
    open(os.path.join(folder, "code", "model.py"), "w").write(MODEL)
    generator = np.random.default_rng(7)
    X = generator.uniform([0, 10, 0], [72, 120, 10], size=(2000, 3))
    y = (X[:, 1] / (X[:, 0] + 1) + generator.normal(0, 1, 2000) > 3).astype(int)
    model = RandomForestClassifier(n_estimators=20, max_depth=6, random_state=7).fit(X, y)
    pickle.dump(model, open(os.path.join(folder, "models", "churn.pkl"), "wb"))
    database = sqlite3.connect(os.path.join(folder, "data", "features.sqlite"))
    database.execute("CREATE TABLE customer_features (customer_id INTEGER, spend REAL, visits INTEGER, segment TEXT)")
    database.executemany(
        "INSERT INTO customer_features VALUES (?, ?, ?, ?)",
        ((i, round(i * 0.37 % 500, 2), i % 31, "s%d" % (i % 7)) for i in range(1_000_000)))
    database.commit()
    database.close()


if __name__ == "__main__":
    main(sys.argv[1])
