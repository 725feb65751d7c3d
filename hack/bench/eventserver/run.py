"""Event server ingest benchmark driver (see hack/bench/eventserver.sh). Standard library only.

Usage: run.py APIDEPLOYER WORK_DIR SECONDS CLIENTS
"""
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from processes import start_printing_url, stop  # noqa: E402

# A query event of the size the API node writes for one single-row prediction.
EVENT = {"msgType": "prediction-query", "requestId": "8f0c2a4e-4d1b-4c55-9a51-0c7c8e9f1a2b", "timestamp": "2026-11-29T10:00:00.000Z",
         "service": "churn", "endpoint": "predict-churn", "generation": "v2", "status": 200,
         "features": {"tenure": 3, "monthly_charges": 70.5, "plan": "basic"},
         "result": {"ignored": False, "prediction": "1", "probas": {"0": 0.0030406713485717773, "1": 0.9969593286514282}},
         "timing": {"totalMs": 0.412}}


def ingest(url, batch, seconds, clients):
    """Events/s acknowledged by the server: `clients` threads posting NDJSON batches."""
    body = ("\n".join(json.dumps(dict(EVENT, n=i)) for i in range(batch)) + "\n").encode()
    parts = urllib.parse.urlparse(url)
    acknowledged = [0] * clients
    deadline = time.monotonic() + seconds

    def client(index):
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        while time.monotonic() < deadline:
            connection.request("POST", "/events?topic=apinode-query&routingKey=bench", body, {"Content-Type": "application/x-ndjson"})
            answer = connection.getresponse()
            answer.read()
            if answer.status != 200:
                raise SystemExit(f"the event server answered {answer.status}")
            acknowledged[index] += batch
        connection.close()

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(index,)) for index in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(acknowledged) / (time.monotonic() - started)


def direct(path, batch, seconds):
    """Events/s of a plain loop: append `batch` envelope lines with one write, fsync, repeat."""
    line = json.dumps({"clientEvent": EVENT, "origAddress": "127.0.0.1", "serverTimestamp": "2026-11-29T10:00:00.000+0000"}) + "\n"
    chunk = (line * batch).encode()
    written = 0
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        os.write(descriptor, chunk)
        os.fsync(descriptor)
        written += batch
    elapsed = time.monotonic() - started
    os.close(descriptor)
    return written / elapsed


def main(apideployer, work, seconds, clients):
    rows = []
    for batch in (100, 1000):
        root = os.path.join(work, f"events-{batch}")
        process, url = start_printing_url([apideployer, "eventserver", "serve", "--root", root, "--port", "0"], "eventserver: serving on ", quiet=True)
        try:
            ingest(url, batch, 2, clients)  # warm-up
            served = ingest(url, batch, seconds, clients)
        finally:
            stop(process)
        limit = direct(os.path.join(work, f"direct-{batch}.jsonl"), batch, seconds)
        rows.append((batch, served, limit))
        print(f"  batch {batch}: event server {served:,.0f} events/s, direct loop {limit:,.0f} events/s", file=sys.stderr)
    print(f"{clients} clients, NDJSON batches, {seconds} s per run; the direct loop is one writer appending a batch and fsyncing.")
    print()
    print("| batch | event server (events/s, acknowledged durable) | append + fsync loop (events/s) | ratio |")
    print("|---:|---:|---:|---:|")
    for batch, served, limit in rows:
        print(f"| {batch} | {served:,.0f} | {limit:,.0f} | {served / limit:.2f}× |")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
