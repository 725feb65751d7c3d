#!/usr/bin/env bash
# The test command (README, CI): install what the tests need, build, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash hack/install-test-deps.sh
swift build --build-tests
swift test --skip-build
