#!/usr/bin/env bash
# Event server ingest benchmark (not a test): events/s acknowledged as durable, next to a plain
# append-and-fsync loop on the same disk with the same batch size (the physical limit), for
# batches of 100 and of 1,000 events. Prints a Markdown report for docs/benchmarks.md.
# Usage: hack/bench/eventserver.sh [SECONDS per run=10] [CLIENTS=8]
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release --product apideployer >&2
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 hack/bench/eventserver/run.py "$bin/apideployer" "$work" "${1:-10}" "${2:-8}"
