"""An API node's Python worker: loads one endpoint's code once, then answers calls.

Protocol (private between the node and this file): frames of a 4-byte big-endian length and a
UTF-8 JSON object, requests on standard input, answers on the original standard output. After
loading, the worker sends {"ready": true} or an error; then one answer per
request, in order: {"ok": true, "value": ...} or {"ok": false, "type", "message", "traceback"}.
Standard output is moved to standard error before user code runs, so `print` cannot corrupt the
frames. The worker exits at the end of its input and when the node dies.

Usage: python worker.py SPEC_JSON
  SPEC: {"kind": "function" | "python-prediction", "file": path, "function": name,
         "class": name, "classes": [labels] | null}
"""

import importlib.util
import json
import math
import os
import struct
import sys
import threading
import time
import traceback


def die_with_parent():
    """Ends this worker when the node's process ends, even by SIGKILL (its pipes may stay open
    while the worker is busy, so a watcher thread checks the parent)."""
    parent = os.getppid()

    def watch():
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def private_streams():
    """Keeps the node's pipes for frames and gives user code harmless standard streams."""
    frames_in = os.fdopen(os.dup(0), "rb", buffering=0)
    frames_out = os.fdopen(os.dup(1), "wb", buffering=0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    sys.stdin = open(os.devnull)
    sys.stdout = sys.stderr
    return frames_in, frames_out


def read_exactly(stream, count):
    data = b""
    while len(data) < count:
        chunk = stream.read(count - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def read_frame(stream):
    header = read_exactly(stream, 4)
    if header is None:
        return None
    (length,) = struct.unpack(">I", header)
    payload = read_exactly(stream, length)
    if payload is None:
        return None
    return json.loads(payload)


def plain(value):
    """JSON for the values numeric libraries return (numpy scalars and arrays, sets, tuples)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"the result holds a {type(value).__name__}, which is not JSON-serialisable")


def encode(message):
    try:
        return json.dumps(message, default=plain, allow_nan=False, separators=(",", ":")).encode()
    except (TypeError, ValueError) as error:
        return json.dumps(failure(error, with_traceback=False)).encode()


def write_frame(stream, message):
    payload = encode(message)
    stream.write(struct.pack(">I", len(payload)) + payload)


def failure(error, with_traceback=True):
    return {
        "ok": False,
        "type": type(error).__name__,
        "message": str(error),
        "traceback": traceback.format_exc() if with_traceback else "",
    }


def load_module(path):
    folder = os.path.dirname(os.path.abspath(path))
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = "apideployer_endpoint_" + os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def member(module, name, what):
    if not hasattr(module, name):
        raise AttributeError(f"{module.__file__} has no {what} {name!r}")
    return getattr(module, name)


class Function:
    def __init__(self, spec):
        self.function = member(load_module(spec["file"]), spec["function"], "function")
        if not callable(self.function):
            raise TypeError(f"{spec['function']!r} is not callable")

    def answer(self, request):
        return self.function(**request["args"])


class Prediction:
    def __init__(self, spec):
        model_class = member(load_module(spec["file"]), spec["class"], "class")
        self.model = model_class()
        if not callable(getattr(self.model, "predict", None)):
            raise TypeError(f"class {spec['class']!r} has no predict method")
        self.proba = callable(getattr(self.model, "predict_proba", None))
        self.classes = spec.get("classes")

    def class_names(self, width):
        names = getattr(self.model, "classes", None)
        if names is None:
            names = getattr(self.model, "classes_", None)
        if names is None:
            names = self.classes
        names = [str(name) for name in (plain(names) if hasattr(names, "tolist") else names or [])]
        if len(names) != width:
            names = [str(index) for index in range(width)]
        return names

    def answer(self, request):
        records = request["records"]
        predictions = list(plain(p) if hasattr(p, "item") else p for p in self.model.predict(records))
        if len(predictions) != len(records):
            raise ValueError(f"predict returned {len(predictions)} predictions for {len(records)} records")
        results = [{"prediction": p} for p in predictions]
        if self.proba:
            rows = self.model.predict_proba(records)
            rows = plain(rows) if hasattr(rows, "tolist") else list(rows)
            if len(rows) != len(records):
                raise ValueError(f"predict_proba returned {len(rows)} rows for {len(records)} records")
            for result, row in zip(results, rows):
                if isinstance(row, dict):
                    result["probas"] = {str(name): float(value) for name, value in row.items()}
                else:
                    row = plain(row) if hasattr(row, "tolist") else list(row)
                    result["probas"] = dict(zip(self.class_names(len(row)), (float(value) for value in row)))
        for result in results:
            value = result["prediction"]
            if value is None or (isinstance(value, float) and math.isnan(value)):
                result.clear()
                result["ignored"] = True
        return results


def main():
    die_with_parent()
    frames_in, frames_out = private_streams()
    spec = json.loads(sys.argv[1])
    os.environ.setdefault("APIDEPLOYER_PACKAGE_DIR", os.getcwd())
    try:
        endpoint = (Function if spec["kind"] == "function" else Prediction)(spec)
    except BaseException as error:  # a load failure is the import's answer, whatever it is
        write_frame(frames_out, failure(error))
        return
    write_frame(frames_out, {"ready": True})
    while True:
        request = read_frame(frames_in)
        if request is None:
            return
        try:
            answer = {"ok": True, "value": endpoint.answer(request)}
        except Exception as error:
            answer = failure(error)
        write_frame(frames_out, answer)


if __name__ == "__main__":
    main()
