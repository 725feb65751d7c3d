"""Serving benchmark driver (see hack/bench/serving.sh): starts every server, checks their answers
agree, then loads one server at a time with wrk (same settings for all), the servers in turn in
rounds so that each ratio compares runs made minutes apart at most (this VM's speed drifts by
more than some of the gaps measured over the quarter hour a run takes), and prints a Markdown
report.

Usage: run.py APIDEPLOYER SERVING_CEILING WORK_DIR SECONDS
"""
import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from processes import prepare_node, start_printing_url, stop  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CONNECTIONS = 32
THREADS = 2
# Rounds in which every server is loaded in turn (see `main`).
ROUNDS = 3
TITLES = {"API node": "API node", "FastAPI": "FastAPI + onnxruntime", "MLflow": "MLflow", "ceiling": "Hummingbird fixed body"}
MODELS = ["pipeline", "boosting"]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def post(url, body_file):
    request = urllib.request.Request(url, data=open(body_file, "rb").read(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read())


def wait_until_up(url, process, limit=180):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server for {url} exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up within {limit} s")


def seconds(text):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]


def wrk(url, body_file, duration, script=os.path.join(HERE, "post.lua")):
    """Runs wrk and returns req/s, p50 and p99 (seconds); refuses runs with errors. `script`
    makes the requests (default: POST the body in `body_file`)."""
    environment = dict(os.environ, BODY=body_file or "")
    base = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", "--latency", "-s", script]
    subprocess.run(base + ["-d2s", url], env=environment, check=True, capture_output=True)  # warm-up
    output = subprocess.run(base + [f"-d{duration}s", "--timeout", "30s", url], env=environment, check=True,
                            capture_output=True, text=True).stdout
    failures = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if failures or (errors and any(int(n) for n in errors.groups())):
        raise SystemExit(f"wrk saw failed requests against {url}:\n{output}")
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": seconds(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1)),
        "p99": seconds(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1)),
    }


def labels(answer):
    if "results" in answer:
        return [str(result["prediction"]) for result in answer["results"]]
    if "result" in answer:
        return [str(answer["result"]["prediction"])]
    return [str(row) for row in answer["predictions"]]


def check_labels(name, model, batch_url, batch_body, reference):
    """Refuses a server whose labels for the batch body differ from the API node's."""
    answer = labels(post(batch_url, batch_body))
    if model in reference and reference[model] != answer:
        mismatches = sum(a != b for a, b in zip(reference[model], answer))
        raise SystemExit(f"{name} {model}: {mismatches} of 1,000 labels differ from the API node's")
    reference.setdefault(model, answer)


def main(apideployer, ceiling, work, duration, rounds=ROUNDS):
    out = os.path.join(work, "models")
    subprocess.run([sys.executable, os.path.join(HERE, "make_models.py"), out], check=True)
    with contextlib.ExitStack() as running:
        servers = start_servers(running, apideployer, ceiling, work, out)
        reference = {}
        for name in ["API node", "FastAPI", "MLflow"]:
            for model in MODELS:
                _, batch_url, (_, batch_body) = servers[name][model]
                check_labels(name, model, batch_url, batch_body, reference)
        runs = measure(servers, duration, rounds)
    report(runs, duration, rounds)


def start_servers(running, apideployer, ceiling, work, out):
    """Starts the four servers (each stopped when `running` closes); returns, per server and
    model, the single-row URL, the batch URL (none for the ceiling) and the two bodies."""
    python = sys.executable
    bodies = os.path.join(out, "bodies")
    ours = (os.path.join(bodies, "single.json"), os.path.join(bodies, "batch.json"))
    mlflow_bodies = (os.path.join(bodies, "mlflow-single.json"), os.path.join(bodies, "mlflow-batch.json"))
    servers = {}
    node = os.path.join(work, "node")
    prepare_node(apideployer, node, os.path.join(out, "package"), os.path.join(work, "bench.zip"))
    print("Starting the API node, the fixed-body server, FastAPI and MLflow", file=sys.stderr)
    process, url = start_printing_url([apideployer, "node", "serve", "--data-dir", node, "--port", "0"], "apinode: serving on ")
    running.callback(stop, process)
    base = f"{url}/public/api/v1/bench"
    servers["API node"] = {model: (f"{base}/{model}/predict", f"{base}/{model}/predict-multi", ours) for model in MODELS}

    fixed_answer = os.path.join(work, "fixed-answer.json")
    with open(fixed_answer, "wb") as handle:
        handle.write(urllib.request.urlopen(urllib.request.Request(servers["API node"]["pipeline"][0], data=open(ours[0], "rb").read())).read())
    process, url = start_printing_url([ceiling, "0", fixed_answer], "serving-ceiling: serving on ")
    running.callback(stop, process)
    servers["ceiling"] = {model: (url + "/", None, ours) for model in MODELS}

    port = free_port()
    environment = dict(os.environ, ONNX_DIR=os.path.join(out, "onnx"))
    process = subprocess.Popen([python, "-m", "uvicorn", "fastapi_app:app", "--workers", "2", "--host", "127.0.0.1", "--port", str(port),
                                "--no-access-log", "--log-level", "warning"], cwd=HERE, env=environment)
    running.callback(stop, process)
    wait_until_up(f"http://127.0.0.1:{port}/docs", process)
    servers["FastAPI"] = {model: (f"http://127.0.0.1:{port}/{model}/predict", f"http://127.0.0.1:{port}/{model}/predict-multi", ours)
                          for model in MODELS}

    log = running.enter_context(open(os.path.join(work, "mlflow.log"), "w"))
    servers["MLflow"] = {}
    for model in MODELS:
        port = free_port()
        process = subprocess.Popen([python, "-m", "mlflow", "models", "serve", "-m", os.path.join(out, f"mlflow-{model}"), "--env-manager", "local",
                                    "-h", "127.0.0.1", "-p", str(port), "-w", "2"], stdout=log, stderr=subprocess.STDOUT,
                                   env=dict(os.environ, MLFLOW_TRACKING_URI=f"file://{work}/mlruns",
                                            PATH=os.path.dirname(python) + os.pathsep + os.environ["PATH"]))
        running.callback(stop, process)
        wait_until_up(f"http://127.0.0.1:{port}/ping", process)
        servers["MLflow"][model] = (f"http://127.0.0.1:{port}/invocations", f"http://127.0.0.1:{port}/invocations", mlflow_bodies)
    return servers


def measure(servers, duration, rounds):
    """Loads one server at a time: per round, each model and body on every server in turn (the
    order reversed every other round). Returns the wrk results by (server, model, kind)."""
    runs = {}
    for round in range(rounds):
        order = list(servers) if round % 2 == 0 else list(reversed(servers))
        for model in MODELS:
            for kind in ("single", "batch"):
                for name in order:
                    single_url, batch_url, (single_body, batch_body) = servers[name][model]
                    url, body = (single_url, single_body) if kind == "single" else (batch_url, batch_body)
                    if url:
                        runs.setdefault((name, model, kind), []).append(wrk(url, body, duration))
        print(f"  round {round + 1} of {rounds} done", file=sys.stderr)
    return runs


def report(runs, duration, rounds):
    def mean(name, model, kind, key="rps"):
        values = [run[key] for run in runs[(name, model, kind)]]
        return sum(values) / len(values)

    def worst(name, model, kind, key):
        return max(run[key] for run in runs[(name, model, kind)])

    print(f"wrk {THREADS} threads, {CONNECTIONS} connections, {duration} s per run after a 2 s warm-up; one server loaded at a time, "
          f"the servers in turn in {rounds} rounds (order reversed every other round); rates are means of the rounds, p50 their mean "
          f"and p99 the worst round's.\n")
    print("| server | model | single-row req/s | p50 | p99 | 1,000-row batches: rows/s |")
    print("|---|---|---:|---:|---:|---:|")
    for name, title in TITLES.items():
        for model in MODELS:
            batch = f"{mean(name, model, 'batch') * 1000:,.0f}" if (name, model, "batch") in runs else "—"
            print(f"| {title} | {model} | {mean(name, model, 'single'):,.0f} | {mean(name, model, 'single', 'p50') * 1000:.2f} ms | "
                  f"{worst(name, model, 'single', 'p99') * 1000:.2f} ms | {batch} |")
    print("\nEach round's rate (single rows: req/s; batches: rows/s):\n")
    print("| server | model | single rows | batches |")
    print("|---|---|---|---|")
    for name, title in TITLES.items():
        for model in MODELS:
            single = ", ".join(f"{run['rps']:,.0f}" for run in runs[(name, model, "single")])
            batch = ", ".join(f"{run['rps'] * 1000:,.0f}" for run in runs.get((name, model, "batch"), [])) or "—"
            print(f"| {title} | {model} | {single} | {batch} |")
    print()
    print("| ratio | pipeline | boosting | target |")
    print("|---|---:|---:|---|")
    rows = [
        ("single-row req/s, node ÷ MLflow", lambda m: mean("API node", m, "single") / mean("MLflow", m, "single"), "≥ 100×"),
        ("single-row req/s, node ÷ FastAPI + onnxruntime", lambda m: mean("API node", m, "single") / mean("FastAPI", m, "single"), "≥ 5×"),
        ("single-row req/s, node ÷ fixed-body ceiling", lambda m: mean("API node", m, "single") / mean("ceiling", m, "single"), "≥ 0.6×"),
        ("batch rows/s, node ÷ MLflow", lambda m: mean("API node", m, "batch") / mean("MLflow", m, "batch"), "≥ 10×"),
        ("batch rows/s, node ÷ FastAPI + onnxruntime", lambda m: mean("API node", m, "batch") / mean("FastAPI", m, "batch"), "—"),
    ]
    for title, ratio, target in rows:
        print(f"| {title} | {ratio('pipeline'):.2f}× | {ratio('boosting'):.2f}× | {target} |")
    print(f"| single-row p99 of the node (worst round) | {worst('API node', 'pipeline', 'single', 'p99') * 1000:.2f} ms | "
          f"{worst('API node', 'boosting', 'single', 'p99') * 1000:.2f} ms | < 10 ms |")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
