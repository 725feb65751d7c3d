import APINode
import DeployerModel
import Foundation

/// Packages with Python endpoints for the tests, and a node runtime that runs them with the
/// test peers' Python (which has scikit-learn).
enum PythonPackages {
    /// `work(mode)`: "ok" answers the worker's pid; "raise" raises ValueError; "exit" ends the
    /// process; "hang" never returns; "gate" waits until the file `gate` names exists;
    /// "print" prints to standard output first.
    static let functions = """
        import os, time

        def work(mode="ok", gate=None, a=0, b=0):
            if mode == "raise":
                raise ValueError("no customer " + str(a))
            if mode == "exit":
                os._exit(3)
            if mode == "hang":
                time.sleep(3600)
            if mode == "gate":
                while not os.path.exists(gate):
                    time.sleep(0.005)
            if mode == "print":
                print("user code writes to standard output")
            return {"pid": os.getpid(), "sum": a + b}
        """

    /// A class over a pickled scikit-learn model of the package.
    static let model = """
        import pickle
        from apideployer import package_path

        class ChurnModel:
            def __init__(self):
                with open(package_path("models", "churn.pkl"), "rb") as f:
                    self.model = pickle.load(f)
                self.classes = [str(c) for c in self.model.classes_]

            def rows(self, records):
                return [[float(r["tenure"]), float(r["charges"])] for r in records]

            def predict(self, records):
                return [str(p) for p in self.model.predict(self.rows(records))]

            def predict_proba(self, records):
                return self.model.predict_proba(self.rows(records))
        """

    /// Trains and pickles the model, and writes scikit-learn's own answers for `probe` rows.
    static let training = """
        import json, os, pickle, sys
        from sklearn.linear_model import LogisticRegression
        X = [[1, 90], [2, 80], [3, 85], [30, 20], [40, 25], [50, 30], [5, 70], [45, 10]]
        y = [1, 1, 1, 0, 0, 0, 1, 0]
        model = LogisticRegression().fit(X, y)
        os.makedirs(sys.argv[1] + "/models", exist_ok=True)
        with open(sys.argv[1] + "/models/churn.pkl", "wb") as f:
            pickle.dump(model, f)
        probe = [[4, 75], [35, 22]]
        expected = [{"prediction": str(p), "probas": dict(zip([str(c) for c in model.classes_], map(float, row)))}
                    for p, row in zip(model.predict(probe), model.predict_proba(probe))]
        with open(sys.argv[1] + "/expected.json", "w") as f:
            json.dump(expected, f)
        """

    static func manifest(version: String, requirements: Bool = false, extra: String = "") -> String {
        """
        apiVersion: apideployer.dev/v1alpha1
        kind: ServicePackage
        service: py
        version: \(version)
        endpoints:
          - id: work
            type: function
            python: {file: code/functions.py, function: work\(requirements ? ", requirements: requirements.txt" : "")}
          - id: churn
            type: python-prediction
            python: {file: code/model.py, class: ChurnModel}
        \(extra)
        """
    }

    /// A package archive; `files` are extra files by path.
    static func archive(version: String, manifest: String? = nil, files: [String: String] = [:]) throws -> URL {
        let texts = ["service.yaml": manifest ?? Self.manifest(version: version), "code/functions.py": functions, "code/model.py": model]
        return try TestPackages.archive(files: texts.merging(files, uniquingKeysWith: { _, new in new }), script: training)
    }

    /// A node runtime in a new data directory whose Python endpoints run with the test Python.
    static func runtime(idleGrace: Duration = .milliseconds(100)) throws -> (NodeRuntime, URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pynode-\(UUID().uuidString)")
        let environments = try PythonEnvironments(
            dataDirectory: directory, python: try PackageTests.testPython(), idleGrace: idleGrace, logger: .init(label: "test.python"))
        return (try NodeRuntime(dataDirectory: directory, python: environments), directory)
    }
}
