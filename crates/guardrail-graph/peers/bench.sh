#!/bin/sh
# Side-by-side benchmark of guardrail-graph and its Python peers on the same files, in
# one run. Usage: crates/guardrail-graph/peers/bench.sh [SIZES...]
#   default sizes: 1000 10000 100000 (add 1000000 and powerlaw:10 for the large runs)
# Environment: BENCH_DIR (default /tmp/guardrail-graph-bench), CARGO_TARGET_DIR as usual.
# Also runs the map evaluation and, with PPR_LARGE=50, the 50M-edge push benchmark.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dir=${BENCH_DIR:-/tmp/guardrail-graph-bench}
[ $# -gt 0 ] || set -- 1000 10000 100000
bench() { cargo bench --quiet -p guardrail-graph --bench graph -- "$@"; }
bench generate "$dir" "$@"
names=""
for size in "$@"; do
  case $size in
    powerlaw:*) names="$names powerlaw" ;;
    *) names="$names lfr-$size" ;;
  esac
done
for name in $names; do
  bench run "$dir" "$name"
  python3 "$here/bench.py" "$dir" "$name"
done
bench evaluate 0 1 2 3
if [ -n "${PPR_LARGE:-}" ]; then
  bench ppr-large "$PPR_LARGE"
fi
