#!/usr/bin/env bash
# The reviewer console in a real browser (issue 14): starts `guardrail serve` on a
# throwaway SQLite ledger with one console user per role (plus one the lockout test
# locks), then runs tests/browser with Playwright driving Debian's Chromium, and axe-core
# from npm. Screenshots land in target/browser-artifacts/.
#
# Installs only from the registries: Chromium from apt when missing, Playwright and pytest
# from PyPI (tests/browser/requirements.txt), axe-core from npm into a cache directory.
# It must never run `playwright install` (no browser downloads), or point the tests at
# anything but the server it started; it stops that server and removes its ledger on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

bin="${CARGO_TARGET_DIR:-target}/debug/guardrail"
[ -x "$bin" ] || cargo build --bin guardrail

if ! command -v chromium >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
python3 -m pip install --quiet --disable-pip-version-check -r tests/browser/requirements.txt

axe_dir="${AXE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/guardrail-axe}"
if [ ! -f "$axe_dir/node_modules/axe-core/axe.min.js" ]; then
  npm install --silent --no-audit --no-fund --prefix "$axe_dir" axe-core@4 >/dev/null
fi
export AXE_PATH="$axe_dir/node_modules/axe-core/axe.min.js"

work=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then kill -TERM "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

db="sqlite://$work/ledger.db"
new_password() { head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
for role in reviewer investigator admin; do
  password=$(new_password)
  printf '%s' "$password" | "$bin" user create --db "$db" --name "browser-$role" --role "$role" --password-stdin >/dev/null
  upper=$(echo "$role" | tr '[:lower:]' '[:upper:]')
  export "GUARDRAIL_${upper}_USER=browser-$role" "GUARDRAIL_${upper}_PASSWORD=$password"
done
GUARDRAIL_LOCKED_PASSWORD=$(new_password)
printf '%s' "$GUARDRAIL_LOCKED_PASSWORD" | "$bin" user create --db "$db" --name browser-locked --role reviewer --password-stdin >/dev/null
export GUARDRAIL_LOCKED_USER=browser-locked GUARDRAIL_LOCKED_PASSWORD
GUARDRAIL_TOKEN=$("$bin" token create --scope admin --db "$db" 2>/dev/null | tail -n 1)
export GUARDRAIL_TOKEN

"$bin" serve --db "$db" --listen 127.0.0.1:0 2>"$work/serve.log" &
server=$!
base=""
for _ in $(seq 1 300); do
  base=$(sed -n 's/^guardrail: serving .* on \(http:\/\/[0-9.:]*\)$/\1/p' "$work/serve.log" | head -n 1)
  if [ -n "$base" ] && curl -fs "$base/readyz" >/dev/null 2>&1; then break; fi
  sleep 0.2
done
if [ -z "$base" ] || ! curl -fs "$base/readyz" >/dev/null; then
  echo "browser_test: the server did not become ready"; cat "$work/serve.log"; exit 1
fi
export GUARDRAIL_BASE="$base"
export GUARDRAIL_ARTIFACTS="${GUARDRAIL_ARTIFACTS:-$PWD/target/browser-artifacts}"
export CHROMIUM="${CHROMIUM:-$(command -v chromium)}"
mkdir -p "$GUARDRAIL_ARTIFACTS"
echo "browser_test: console at $base; screenshots in $GUARDRAIL_ARTIFACTS"

status=0
python3 -m pytest -q -p no:cacheprovider tests/browser "$@" || status=$?
if [ "$status" -ne 0 ]; then
  echo "== the server's log"; tail -n 50 "$work/serve.log"
fi
exit "$status"
