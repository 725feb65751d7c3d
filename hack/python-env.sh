#!/usr/bin/env bash
# Prints the path of the Python with the pinned test peers, creating its virtual environment
# first if needed. The environment lives outside the clone, keyed by the requirements' hash, so
# repeated runs (and CI runs on the same machine) reuse it; a new machine builds it afresh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
requirements="$here/requirements-test.txt"
key=$(sha256sum "$requirements" | cut -c1-16)
venv="${APIDEPLOYER_TEST_VENV:-/var/tmp/apideployer-test-venv-$key}"
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$requirements" "$venv/requirements-test.txt"; then
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2
  cp "$requirements" "$venv/requirements-test.txt"
fi
echo "$venv/bin/python"
