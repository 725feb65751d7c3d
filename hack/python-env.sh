#!/usr/bin/env bash
# Prints the path of the Python with the pinned test peers (or the requirements file given as
# the argument), creating its virtual environment first if needed. The environment lives outside
# the clone, keyed by the requirements' hash, so repeated runs (and CI runs on the same machine)
# reuse it; a new machine builds it afresh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
requirements=$(realpath "${1:-$here/requirements-test.txt}")
key=$(cat "$requirements" "$here/requirements-test.txt" | sha256sum | cut -c1-16)
venv="${APIDEPLOYER_TEST_VENV:-/var/tmp/apideployer-venv-$(basename "$requirements" .txt)-$key}"
# One builder at a time: tests running in parallel may ask for the same environment at once.
exec 9>"$venv.lock"
flock 9
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$requirements" "$venv/requirements.txt"; then
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  (cd "$(dirname "$requirements")" && "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements") >&2
  cp "$requirements" "$venv/requirements.txt"
fi
echo "$venv/bin/python"
