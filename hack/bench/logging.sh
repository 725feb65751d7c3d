#!/usr/bin/env bash
# Query logging benchmark (not a test): the API node's single-row throughput with query logging
# off, shipping every query's event to an event server on the same machine, and writing the local
# query log file, interleaved over several rounds with wrk. Prints a Markdown report for
# docs/benchmarks.md. Usage: hack/bench/logging.sh [SECONDS per run=10] [ROUNDS=3]
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v wrk >/dev/null || { apt-get update >&2 && apt-get install -y wrk >&2; }
python=$(bash hack/python-env.sh hack/bench/requirements-bench.txt)
swift build -c release --product apideployer >&2
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$python" hack/bench/logging/run.py "$bin/apideployer" "$work" "${1:-10}" "${2:-3}"
