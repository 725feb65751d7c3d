#!/usr/bin/env bash
# Controller benchmark (not a test): COUNT deployments (default 1000) of distinct services over 3
# API nodes. First the physical limit: a script makes the same uploads, imports and mapping calls
# directly with the same parallelism as the controller (8 deployments at a time, 3 nodes each).
# Then the controller: the store already holds every object, `apideployer serve` starts cold and
# brings all of them to Ready. Also: HTTP calls per deployment per node, reconciles/s, peak
# memory, and CPU while idle with everything Ready. Prints a Markdown report for
# docs/benchmarks.md. Usage: hack/bench/controller.sh [COUNT=1000] [IDLE_SECONDS=60]
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release --product apideployer >&2
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 hack/bench/controller/run.py "$bin/apideployer" "$work" "${1:-1000}" "${2:-60}"
