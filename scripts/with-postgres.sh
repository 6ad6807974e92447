#!/usr/bin/env bash
# Runs a command beside a throwaway PostgreSQL server: initdb in a fresh temp dir, the
# server on a Unix socket in that dir only (no TCP), GUARDRAIL_TEST_PG_URL exported for
# the command, and on exit (success, failure or interrupt) the server stopped and the dir
# removed. Used by CI (.ci/run through scripts/test.sh) and by hand:
#
#   bash scripts/with-postgres.sh cargo test -p guardrail-store
#
# Needs the PostgreSQL server binaries (initdb, pg_ctl, postgres) on PATH or under
# /usr/lib/postgresql/*/bin (Debian: apt-get install postgresql-15). As root it runs the
# server as the unprivileged user `nobody` (initdb refuses root); the command itself runs
# as the caller.
#
# What it must never do: touch a server or data dir it did not create, listen on a
# network interface, or leave a server running.
set -euo pipefail

if [ $# -eq 0 ]; then
  echo "usage: scripts/with-postgres.sh COMMAND [ARG...]" >&2
  exit 2
fi

# The server binaries: Debian keeps them off PATH, under the major version's dir; the
# newest there wins, then whatever PATH has.
pg_bin=""
for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V); do
  if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then
    pg_bin="$dir"
  fi
done
if [ -z "$pg_bin" ] && command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
  pg_bin="$(dirname "$(readlink -f "$(command -v initdb)")")"
fi
if [ -z "$pg_bin" ]; then
  echo "with-postgres.sh: no PostgreSQL server binaries (initdb, pg_ctl, postgres) on PATH or in /usr/lib/postgresql/*/bin; install them (Debian: apt-get install postgresql-15)" >&2
  exit 127
fi

base="$(mktemp -d "${TMPDIR:-/tmp}/guardrail-pg.XXXXXX")"
data="$base/data"
socket_dir="$base"
log="$base/server.log"
# A port number only names the socket file (.s.PGSQL.PORT) in our own dir; random anyway
# so that two runs never share a name even if the dir were shared.
port=$((20000 + RANDOM % 20000))

run_as_server=()
if [ "$(id -u)" -eq 0 ]; then
  server_user="${GUARDRAIL_PG_USER:-nobody}"
  chown "$server_user" "$base"
  if command -v runuser >/dev/null 2>&1; then
    run_as_server=(runuser -u "$server_user" --)
  else
    run_as_server=(su -s /bin/sh "$server_user" -c '"$0" "$@"')
  fi
fi

server_started=0
cleanup() {
  status=$?
  if [ "$server_started" -eq 1 ]; then
    (cd "$base" && "${run_as_server[@]}" "$pg_bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1) ||
      echo "with-postgres.sh: stopping the server failed; see $log" >&2
  fi
  if [ "$status" -ne 0 ] && [ -f "$log" ] && [ "$server_started" -eq 0 ]; then
    echo "with-postgres.sh: server log:" >&2
    cat "$log" >&2
  fi
  rm -rf "$base"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

(cd "$base" && "${run_as_server[@]}" "$pg_bin/initdb" -D "$data" -U guardrail \
  --auth=trust --encoding=UTF8 --locale=C --no-sync >"$base/initdb.log" 2>&1) || {
  echo "with-postgres.sh: initdb failed:" >&2
  cat "$base/initdb.log" >&2
  exit 1
}

# Socket only; fsync stays on (durability is what the store's tests and benchmarks
# measure). The conformance suite opens a few connections per test, tests in parallel.
cat >>"$data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$socket_dir'
port = $port
max_connections = 200
EOF

(cd "$base" && "${run_as_server[@]}" "$pg_bin/pg_ctl" -D "$data" -l "$log" -w -t 60 start >/dev/null) || {
  echo "with-postgres.sh: the server did not start:" >&2
  cat "$log" >&2
  exit 1
}
server_started=1

export GUARDRAIL_TEST_PG_URL="postgres:///postgres?host=$socket_dir&port=$port&user=guardrail"
echo "with-postgres.sh: $("$pg_bin/postgres" --version) on $socket_dir (port $port)" >&2

set +e
"$@"
status=$?
set -e
exit "$status"
