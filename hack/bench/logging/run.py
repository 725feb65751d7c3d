"""Query logging benchmark driver (see hack/bench/logging.sh).

One API node serves the serving benchmark's pipeline model; wrk loads single-row predictions
while the service's logging is switched between three settings, in interleaved rounds so that
drifts of this machine hit every setting alike:
  off       -- logQueries false: no event is made;
  shipped   -- every event shipped to an event server on this machine (acknowledged durably);
  local     -- no logging settings: events appended to the node's local query log file.
Usage: run.py APIDEPLOYER WORK_DIR SECONDS ROUNDS
"""
import json
import os
import subprocess
import sys
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "serving"))
from processes import prepare_node, start_printing_url, stop  # noqa: E402
from run import wrk  # noqa: E402  (the serving benchmark's wrk runner: same settings)


def set_logging(tool, setting, event_server):
    if setting == "local":
        subprocess.run([tool, "service-clear-logging", "bench"], check=True, capture_output=True)
        return
    body = {"eventServers": [{"url": event_server}], "routingKey": "bench", "logQueries": setting == "shipped"}
    subprocess.run([tool, "service-set-logging", "bench"], input=json.dumps(body), text=True, check=True, capture_output=True)


def shipped_count(node_url):
    metrics = urllib.request.urlopen(f"{node_url}/metrics", timeout=10).read().decode()
    return sum(int(float(line.rsplit(" ", 1)[1])) for line in metrics.splitlines() if line.startswith("apinode_query_events_shipped_total{"))


def main(apideployer, work, duration, rounds):
    python = sys.executable
    out = os.path.join(work, "models")
    subprocess.run([python, os.path.join(HERE, "..", "serving", "make_models.py"), out], check=True)
    single = os.path.join(out, "bodies", "single.json")
    node = os.path.join(work, "node")
    tool = prepare_node(apideployer, node, os.path.join(out, "package"), os.path.join(work, "bench.zip"))
    events, event_url = start_printing_url([apideployer, "eventserver", "serve", "--root", os.path.join(work, "events"), "--port", "0"],
                                           "eventserver: serving on ", quiet=True)
    process, url = start_printing_url([apideployer, "node", "serve", "--data-dir", node, "--port", "0"], "apinode: serving on ", quiet=True)
    settings = ["off", "shipped", "local"]
    runs = {setting: [] for setting in settings}
    try:
        predict = f"{url}/public/api/v1/bench/pipeline/predict"
        for round_number in range(rounds):
            # Every other round runs the settings in reverse order, so that a machine getting
            # slower or faster during the run does not favour the setting that comes first.
            for setting in settings if round_number % 2 == 0 else list(reversed(settings)):
                set_logging(tool, setting, event_url)
                result = wrk(predict, single, duration)
                runs[setting].append(result)
                print(f"  round {round_number + 1} {setting}: {result['rps']:.0f} req/s, p99 {result['p99'] * 1000:.2f} ms", file=sys.stderr)
        shipped = shipped_count(url)
    finally:
        stop(process)
        stop(events)
    report(runs, duration, rounds, shipped)


def report(runs, duration, rounds, shipped):
    def mean(setting, key):
        return sum(run[key] for run in runs[setting]) / len(runs[setting])

    off = mean("off", "rps")
    print(f"wrk, single-row predictions of the pipeline model, {duration} s per run, {rounds} interleaved rounds; "
          f"{shipped:,} events acknowledged by the event server in the shipped runs.\n")
    print("| query logging | req/s (mean) | each round | p99 ms (mean) | throughput vs off (means) | median of the rounds' ratios to off |")
    print("|---|---:|---|---:|---:|---:|")
    for setting in ["off", "shipped", "local"]:
        each = ", ".join(f"{run['rps']:,.0f}" for run in runs[setting])
        ratios = sorted(run["rps"] / base["rps"] for run, base in zip(runs[setting], runs["off"]))
        median = (ratios[len(ratios) // 2] + ratios[(len(ratios) - 1) // 2]) / 2
        print(f"| {setting} | {mean(setting, 'rps'):,.0f} | {each} | {mean(setting, 'p99') * 1000:.2f} | {mean(setting, 'rps') / off:.2f}× | {median:.2f}× |")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
