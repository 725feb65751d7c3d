"""Serving benchmark driver (see hack/bench/serving.sh): loads one server at a time on this machine
with wrk (same settings for all), checks the answers agree, and prints a Markdown report. The
node and the fixed-body ceiling are also loaded in alternating rounds, for their ratio.

Usage: run.py APIDEPLOYER SERVING_CEILING WORK_DIR SECONDS
"""
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
# Rounds of the node against the fixed-body ceiling, per model (alternating order).
CEILING_ROUNDS = 4
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


def bench_server(name, urls, bodies, duration, results, reference):
    for model, (single_url, batch_url) in urls.items():
        single, batch = bodies
        answer = labels(post(batch_url, batch))
        if model in reference and reference[model] != answer:
            mismatches = sum(a != b for a, b in zip(reference[model], answer))
            raise SystemExit(f"{name} {model}: {mismatches} of 1,000 labels differ from the API node's")
        reference.setdefault(model, answer)
        results[(name, model, "single")] = wrk(single_url, single, duration)
        batch_run = wrk(batch_url, batch, duration)
        batch_run["rows"] = batch_run["rps"] * 1000
        results[(name, model, "batch")] = batch_run
        print(f"  {name} {model}: {results[(name, model, 'single')]['rps']:.0f} req/s single, {batch_run['rows']:.0f} rows/s batched",
              file=sys.stderr)


def main(apideployer, ceiling, work, duration):
    python = sys.executable
    out = os.path.join(work, "models")
    subprocess.run([python, os.path.join(HERE, "make_models.py"), out], check=True)
    bodies = os.path.join(out, "bodies")
    ours = (os.path.join(bodies, "single.json"), os.path.join(bodies, "batch.json"))
    mlflow_bodies = (os.path.join(bodies, "mlflow-single.json"), os.path.join(bodies, "mlflow-batch.json"))
    results, reference = {}, {}

    node = os.path.join(work, "node")
    prepare_node(apideployer, node, os.path.join(out, "package"), os.path.join(work, "bench.zip"))
    print("API node", file=sys.stderr)
    process, url = start_printing_url([apideployer, "node", "serve", "--data-dir", node, "--port", "0"], "apinode: serving on ")
    try:
        base = f"{url}/public/api/v1/bench"
        urls = {model: (f"{base}/{model}/predict", f"{base}/{model}/predict-multi") for model in MODELS}
        bench_server("API node", urls, ours, duration, results, reference)
        fixed_answer = os.path.join(work, "fixed-answer.json")
        with open(fixed_answer, "wb") as handle:
            handle.write(urllib.request.urlopen(urllib.request.Request(urls["pipeline"][0], data=open(ours[0], "rb").read())).read())
        print("Hummingbird fixed body, in rounds with the API node", file=sys.stderr)
        ceiling_process, ceiling_url = start_printing_url([ceiling, "0", fixed_answer], "serving-ceiling: serving on ")
        try:
            for model in MODELS:
                results[("ceiling rounds", model)] = ceiling_rounds(urls[model][0], ceiling_url + "/", ours[0], duration)
        finally:
            stop(ceiling_process)
    finally:
        stop(process)

    print("FastAPI + onnxruntime", file=sys.stderr)
    port = free_port()
    environment = dict(os.environ, ONNX_DIR=os.path.join(out, "onnx"))
    process = subprocess.Popen([python, "-m", "uvicorn", "fastapi_app:app", "--workers", "2", "--host", "127.0.0.1", "--port", str(port),
                                "--no-access-log", "--log-level", "warning"], cwd=HERE, env=environment)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/docs", process)
        urls = {model: (f"http://127.0.0.1:{port}/{model}/predict", f"http://127.0.0.1:{port}/{model}/predict-multi") for model in MODELS}
        bench_server("FastAPI", urls, ours, duration, results, reference)
    finally:
        stop(process)

    print("MLflow (its server's output: WORK_DIR/mlflow.log)", file=sys.stderr)
    log = open(os.path.join(work, "mlflow.log"), "w")
    for model in MODELS:
        port = free_port()
        process = subprocess.Popen([python, "-m", "mlflow", "models", "serve", "-m", os.path.join(out, f"mlflow-{model}"), "--env-manager", "local",
                                    "-h", "127.0.0.1", "-p", str(port), "-w", "2"], stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, MLFLOW_TRACKING_URI=f"file://{work}/mlruns",
                                             PATH=os.path.dirname(python) + os.pathsep + os.environ["PATH"]))
        try:
            wait_until_up(f"http://127.0.0.1:{port}/ping", process)
            url = f"http://127.0.0.1:{port}/invocations"
            bench_server("MLflow", {model: (url, url)}, mlflow_bodies, duration, results, reference)
        finally:
            stop(process)
    report(results, duration)


def ceiling_rounds(node_url, ceiling_url, body, duration, rounds=CEILING_ROUNDS):
    """Loads the node and the fixed-body ceiling in turn (node, ceiling, ceiling, node, ...), so
    that both see the same machine: its speed drifts by more than the gap between them over the
    minutes a whole run takes. Both servers run, but only the one being loaded does any work."""
    runs = {"node": [], "ceiling": []}
    for round in range(rounds):
        order = ["node", "ceiling"] if round % 2 == 0 else ["ceiling", "node"]
        for server in order:
            runs[server].append(wrk(node_url if server == "node" else ceiling_url, body, duration))
    node, ceiling = (sum(run["rps"] for run in runs[server]) / rounds for server in ("node", "ceiling"))
    print(f"  rounds: node {node:.0f} req/s, fixed body {ceiling:.0f} req/s", file=sys.stderr)
    return {"node": node, "ceiling": ceiling, "runs": runs}


def report(results, duration):
    def cell(server, model, kind, key):
        return results[(server, model, kind)][key]

    print(f"wrk {THREADS} threads, {CONNECTIONS} connections, {duration} s per run after a 2 s warm-up; one server loaded at a time.\n")
    print("| server | model | single-row req/s | p50 | p99 | 1,000-row batches: rows/s |")
    print("|---|---|---:|---:|---:|---:|")
    for server in ["API node", "FastAPI", "MLflow"]:
        for model in MODELS:
            single = results[(server, model, "single")]
            print(f"| {server} | {model} | {single['rps']:,.0f} | {single['p50'] * 1000:.2f} ms | {single['p99'] * 1000:.2f} ms | "
                  f"{cell(server, model, 'batch', 'rows'):,.0f} |")
    ceiling_runs = [run for model in MODELS for run in results[("ceiling rounds", model)]["runs"]["ceiling"]]
    mean = {key: sum(run[key] for run in ceiling_runs) / len(ceiling_runs) for key in ("rps", "p50", "p99")}
    print(f"| Hummingbird fixed body (mean of {len(ceiling_runs)} runs) | — | {mean['rps']:,.0f} | {mean['p50'] * 1000:.2f} ms | "
          f"{mean['p99'] * 1000:.2f} ms | — |\n")
    print(f"Node against the fixed-body ceiling, single rows, {CEILING_ROUNDS} alternating rounds per model (req/s of each run):\n")
    print("| model | API node | fixed body | node ÷ ceiling |")
    print("|---|---|---|---:|")
    for model in MODELS:
        rounds = results[("ceiling rounds", model)]
        runs = {server: ", ".join(f"{run['rps']:,.0f}" for run in rounds["runs"][server]) for server in ("node", "ceiling")}
        print(f"| {model} | {runs['node']} | {runs['ceiling']} | {rounds['node'] / rounds['ceiling']:.2f}× |")
    print()
    print("| ratio | pipeline | boosting | target |")
    print("|---|---:|---:|---|")
    rows = [
        ("single-row req/s, node ÷ MLflow", lambda m: cell("API node", m, "single", "rps") / cell("MLflow", m, "single", "rps"), "≥ 100×"),
        ("single-row req/s, node ÷ FastAPI + onnxruntime", lambda m: cell("API node", m, "single", "rps") / cell("FastAPI", m, "single", "rps"), "≥ 5×"),
        ("single-row req/s, node ÷ fixed-body ceiling (rounds)", lambda m: results[("ceiling rounds", m)]["node"] / results[("ceiling rounds", m)]["ceiling"],
         "≥ 0.6×"),
        ("batch rows/s, node ÷ MLflow", lambda m: cell("API node", m, "batch", "rows") / cell("MLflow", m, "batch", "rows"), "≥ 10×"),
        ("batch rows/s, node ÷ FastAPI + onnxruntime", lambda m: cell("API node", m, "batch", "rows") / cell("FastAPI", m, "batch", "rows"), "—"),
    ]
    for title, ratio, target in rows:
        print(f"| {title} | {ratio('pipeline'):.2f}× | {ratio('boosting'):.2f}× | {target} |")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
