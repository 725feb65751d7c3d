#!/usr/bin/env bash
# Serving benchmark (not a test): the API node next to MLflow's `mlflow models serve`, FastAPI +
# uvicorn (2 workers) running onnxruntime, and a Hummingbird route answering a fixed body, on the
# same two models and the same wrk settings, in one run: all four servers up, loaded one at a time
# in three rounds. Prints a Markdown report for docs/benchmarks.md.
# Usage: hack/bench/serving.sh [seconds per run=10]
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v wrk >/dev/null || { apt-get update >&2 && apt-get install -y wrk >&2; }
python=$(bash hack/python-env.sh hack/bench/requirements-bench.txt)
swift build -c release --product apideployer >&2
swift build -c release --product serving-ceiling >&2
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$python" hack/bench/serving/run.py "$bin/apideployer" "$bin/serving-ceiling" "$work" "${1:-10}"
