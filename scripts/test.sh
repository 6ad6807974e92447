#!/usr/bin/env bash
# The project's test command (README.md): every test of every crate, including the
# differential tests against reference implementations, which need Python peers from
# PyPI. Safe to run again: installs are skipped when already present.
set -euo pipefail
cd "$(dirname "$0")/.."

# The store's conformance suite runs on PostgreSQL as well as SQLite, and must not skip
# it here: without a server named by GUARDRAIL_TEST_PG_URL, this script runs itself again
# beside a throwaway one (scripts/with-postgres.sh: initdb on a Unix socket in a temp dir,
# removed on exit). GUARDRAIL_REQUIRE_PG=0 runs the SQLite half only, with skip notes.
export GUARDRAIL_REQUIRE_PG="${GUARDRAIL_REQUIRE_PG:-1}"
if [ "$GUARDRAIL_REQUIRE_PG" = "1" ] && [ -z "${GUARDRAIL_TEST_PG_URL:-}" ]; then
  exec bash scripts/with-postgres.sh bash scripts/test.sh "$@"
fi

# Python peers for differential tests (each crate lists its own) and for the test tools
# (tools/cybertipline-server: the local Reporting API and its schema validator).
for requirements in crates/*/peers/requirements.txt tools/*/requirements.txt scripts/*requirements.txt; do
  [ -f "$requirements" ] || continue
  python3 -m pip install --quiet --disable-pip-version-check -r "$requirements"
done

# Differential tests must run, not skip, when this script runs them.
export GUARDRAIL_REQUIRE_PEERS="${GUARDRAIL_REQUIRE_PEERS:-1}"
# The HMA replay (crates/guardrail-hma/tests/replay.rs, PyYAML) must run, not skip, too.
export GUARDRAIL_REQUIRE_HMA_REPLAY="${GUARDRAIL_REQUIRE_HMA_REPLAY:-1}"

if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
  # Fault injection: the failpoints compiled in for this test only (docs/faults.md).
  cargo nextest run -p guardrail-server --features failpoints --test faults --no-fail-fast
else
  cargo test --workspace --no-fail-fast --lib --bins --tests
  cargo test -p guardrail-server --features failpoints --test faults --no-fail-fast
fi
# nextest does not run doctests; the examples in the docs are tests too.
cargo test --workspace --doc
