#!/usr/bin/env bash
# Micro benchmarks (ordo-one/benchmark; not a test): evaluator time per model family for one row
# and for 1,000 rows, the serving benchmark's models on its 1,000-row batch, and whole predict and
# predict-multi queries without HTTP. Builds the parity cases and the serving benchmark's package
# and bodies with the pinned Python peers first.
# Usage: hack/bench/evaluator.sh [extra `swift package benchmark` arguments]
set -euo pipefail
cd "$(dirname "$0")/../.."
python=$(bash hack/python-env.sh hack/bench/requirements-bench.txt)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$python" python/tools/make_parity_cases.py "$work/parity" >/dev/null
"$python" hack/bench/serving/make_models.py "$work/serving" >/dev/null
cd Benchmarks/Micro
PARITY_CASES="$work/parity" SERVING_PACKAGE="$work/serving/package" \
  swift package --disable-sandbox benchmark --no-progress --format markdown "$@"
