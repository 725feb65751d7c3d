#!/usr/bin/env bash
# Store benchmark (not a test): the embedded API server over HTTPS next to direct SQLite with
# the same durability settings, in one run. Prints a Markdown table for docs/benchmarks.md.
# Usage: hack/bench/store.sh [objects=10000] [watchers=100]
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release --product apideployer >&2
swift build -c release --product store-bench >&2
bin=$(swift build -c release --show-bin-path)
"$bin/store-bench" "$bin/apideployer" "${1:-10000}" "${2:-100}"
