#!/usr/bin/env bash
# Makes sure a PostgreSQL server for the tests runs on 127.0.0.1 and prints its port. Idempotent:
# installs the server from Debian if missing, creates its cluster once (outside the clone, so
# repeated runs reuse it), starts it if it is not running. The superuser "apideployer" has the
# password "apideployer"; tests create their own databases.
set -euo pipefail
port="${APIDEPLOYER_TEST_PG_PORT:-55432}"
cluster="${APIDEPLOYER_TEST_PG_DIR:-/var/tmp/apideployer-postgres}"
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ ! -f "$cluster/PG_VERSION" ]; then
  rm -rf "$cluster"
  mkdir -p "$cluster"
  [ "$(id -u)" = 0 ] && chown postgres "$cluster"
  echo apideployer > "$cluster.pw"
  [ "$(id -u)" = 0 ] && chown postgres "$cluster.pw"
  as_postgres "$bin/initdb" -D "$cluster" -U apideployer --pwfile="$cluster.pw" -A scram-sha-256 >&2
fi
if ! as_postgres "$bin/pg_ctl" -D "$cluster" status >/dev/null 2>&1; then
  as_postgres "$bin/pg_ctl" -D "$cluster" -l "$cluster/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k /tmp -c fsync=off" start >&2
fi
echo "$port"
