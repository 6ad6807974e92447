#!/usr/bin/env bash
# Checks of the running service from outside, as its clients see it: HMA's recorded
# traffic replayed against `guardrail serve` (docs/hma-compat.md), and Schemathesis fuzzing
# every route described in /openapi.json (no 5xx, every answer conforming to the schema).
#
# Starts a throwaway ledger and server on a loopback port, with an admin token (it carries
# every scope); stops the server with SIGTERM (graceful) and removes everything on exit.
# It must never point at anything but the server it started.
set -euo pipefail
cd "$(dirname "$0")/.."

bin="${CARGO_TARGET_DIR:-target}/debug/guardrail"
[ -x "$bin" ] || cargo build -p guardrail-cli
python3 -m pip install --quiet --disable-pip-version-check -r scripts/service_check_requirements.txt \
  -r scripts/hma_replay_requirements.txt

work=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then kill -TERM "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

db="sqlite://$work/ledger.db"
token=$("$bin" token create --scope admin --db "$db" 2>/dev/null | tail -n 1)
"$bin" serve --db "$db" --listen 127.0.0.1:0 --hma-allow-private-fetch 2>"$work/serve.log" &
server=$!
base=""
for _ in $(seq 1 300); do
  base=$(sed -n 's/^guardrail: serving .* on \(http:\/\/[0-9.:]*\)$/\1/p' "$work/serve.log" | head -n 1)
  if [ -n "$base" ] && curl -fs "$base/readyz" >/dev/null 2>&1; then break; fi
  sleep 0.2
done
if [ -z "$base" ] || ! curl -fs "$base/readyz" >/dev/null; then
  echo "service_check: the server did not become ready"; cat "$work/serve.log"; exit 1
fi
echo "service_check: serving at $base"

echo "== HMA 2.x recordings replayed against guardrail serve"
python3 scripts/hma_replay.py --base-url "$base" --header "Authorization: Bearer $token"

echo "== Schemathesis against $base/openapi.json"
st run "$base/openapi.json" \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error,response_schema_conformance \
  --max-examples "${SCHEMATHESIS_EXAMPLES:-25}" \
  --request-timeout 20 \
  --phases examples,coverage,fuzzing

echo "== graceful shutdown"
kill -TERM "$server"
wait "$server"
server=""
grep -q "every acknowledged write is stored" "$work/serve.log"
echo "service_check: ok"
