"""Python and lookup endpoint benchmark driver (see hack/bench/python-endpoints.sh): the API node
and FastAPI + uvicorn, each with N Python workers, on the same function and pickled model, then
the node's lookups on a 1-million-row table; prints a Markdown report.

Usage: run.py APIDEPLOYER WORK_DIR SECONDS N
"""
import base64
import json
import os
import subprocess
import sys
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "serving"))
from processes import prepare_node, start_printing_url, stop  # noqa: E402
from run import free_port, post, wait_until_up, wrk  # noqa: E402  (the serving benchmark's: same wrk settings)

BODIES = {
    "score": {"tenure": 12, "charges": 80.5},
    "churn": {"features": {"tenure": 12, "charges": 80.5, "calls": 3}},
}


def tune(node_url, key, workers):
    """Gives both Python endpoints exactly `workers` workers, all started."""
    tuning = json.dumps({"floor": workers, "ceil": workers, "cruise": workers, "queue": 128, "timeoutMs": 30000}).encode()
    for endpoint in ("score", "churn"):
        request = urllib.request.Request(f"{node_url}/admin/api/services/bench/endpoints/{endpoint}/tuning", data=tuning, method="PUT",
                                         headers={"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()})
        urllib.request.urlopen(request, timeout=30).read()


def main(apideployer, work, duration, workers):
    python = sys.executable
    package = os.path.join(work, "package")
    subprocess.run([python, os.path.join(HERE, "package.py"), package], check=True)
    bodies = {}
    for name, body in BODIES.items():
        bodies[name] = os.path.join(work, f"{name}.json")
        with open(bodies[name], "w") as handle:
            json.dump(body, handle)
    results = {}

    node = os.path.join(work, "node")
    tool = prepare_node(apideployer, node, package, os.path.join(work, "bench.zip"), init_options=["--python", python])
    key = subprocess.run([tool, "admin-key-create"], check=True, capture_output=True, text=True).stdout.strip()
    print(f"API node, {workers} workers", file=sys.stderr)
    process, url = start_printing_url([apideployer, "node", "serve", "--data-dir", node, "--port", "0"], "apinode: serving on ")
    try:
        tune(url, key, workers)
        base = f"{url}/public/api/v1/bench"
        ours = {"score": f"{base}/score/run", "churn": f"{base}/churn/predict"}
        answers = {name: post(address, bodies[name]) for name, address in ours.items()}
        for name, address in ours.items():
            results[("API node", name)] = wrk(address, bodies[name], duration)
        results[("API node", "lookup")] = wrk(f"{base}/features/lookup", None, duration, script=os.path.join(HERE, "lookup.lua"))
        results[("API node", "lookup-multi")] = wrk(f"{base}/features/lookup-multi", None, duration, script=os.path.join(HERE, "lookup-multi.lua"))
        found = post(f"{base}/features/lookup", write(work, "probe.json", {"data": {"customer_id": 999_999}}))
        assert found["results"][0]["found"], found
    finally:
        stop(process)

    print(f"FastAPI + uvicorn, {workers} workers", file=sys.stderr)
    port = free_port()
    process = subprocess.Popen([python, "-m", "uvicorn", "fastapi_app:app", "--workers", str(workers), "--host", "127.0.0.1", "--port", str(port),
                                "--no-access-log", "--log-level", "warning"], cwd=HERE, env=dict(os.environ, PACKAGE_DIR=package))
    try:
        wait_until_up(f"http://127.0.0.1:{port}/docs", process)
        theirs = {"score": f"http://127.0.0.1:{port}/score/run", "churn": f"http://127.0.0.1:{port}/churn/predict"}
        for name, address in theirs.items():
            answer = post(address, bodies[name])
            mine = answers[name].get("response", answers[name].get("result"))
            other = answer.get("response", answer.get("result"))
            if name == "churn":
                mine = {k: mine[k] for k in ("prediction", "probas")}
            if mine != other:
                raise SystemExit(f"{name}: the API node answered {mine}, FastAPI {other}")
            results[("FastAPI", name)] = wrk(address, bodies[name], duration)
    finally:
        stop(process)
    report(results, duration, workers)


def write(work, name, body):
    path = os.path.join(work, name)
    with open(path, "w") as handle:
        json.dump(body, handle)
    return path


def report(results, duration, workers):
    print(f"\n{duration} s per run, wrk 2 threads × 32 connections, {workers} Python workers on each side.\n")
    print("| endpoint | API node req/s | FastAPI req/s | ratio (target ≥ 0.9) | API node p99 | FastAPI p99 | p99 ratio (target ≤ 1.2) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, title in (("score", "function `score`"), ("churn", "pickled scikit-learn `predict`")):
        ours, theirs = results[("API node", name)], results[("FastAPI", name)]
        print(f"| {title} | {ours['rps']:.0f} | {theirs['rps']:.0f} | {ours['rps'] / theirs['rps']:.2f}× | "
              f"{ours['p99'] * 1000:.1f} ms | {theirs['p99'] * 1000:.1f} ms | {ours['p99'] / theirs['p99']:.2f}× |")
    single, multi = results[("API node", "lookup")], results[("API node", "lookup-multi")]
    print(f"\nLookups of random keys in a 1,000,000-row table (target ≥ 20,000 lookups/s): `lookup`, one key per request, "
          f"{single['rps']:.0f} lookups/s (p50 {single['p50'] * 1000:.2f} ms, p99 {single['p99'] * 1000:.2f} ms); `lookup-multi`, "
          f"100 keys per request, {multi['rps'] * 100:.0f} lookups/s (p99 {multi['p99'] * 1000:.2f} ms per request).")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
