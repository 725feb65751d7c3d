#!/usr/bin/env bash
# Python and lookup endpoint benchmark (not a test): a small Python function and a pickled
# scikit-learn prediction class served by the API node with N workers and by FastAPI + uvicorn
# with N workers, and lookups on a 1-million-row table, with the same wrk settings in one run.
# Prints a Markdown report for docs/benchmarks.md. Usage: hack/bench/python-endpoints.sh [SECONDS=10] [N=2]
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v wrk >/dev/null || { apt-get update >&2 && apt-get install -y wrk >&2; }
python=$(bash hack/python-env.sh hack/bench/requirements-bench.txt)
swift build -c release --product apideployer >&2
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$python" hack/bench/python_endpoints/run.py "$bin/apideployer" "$work" "${1:-10}" "${2:-2}"
