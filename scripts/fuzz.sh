#!/usr/bin/env bash
# Runs the cargo-fuzz targets (fuzz/) for a time budget each and reports, per target, the
# executions, the time and the crashes; exits non-zero if any target crashed.
#
#   bash scripts/fuzz.sh [--budget SECONDS] [--update-seeds] [--summary FILE]
#                        [--bin-dir DIR] [--quick-build] [TARGET[=SECONDS]...]
#
# No TARGET runs them all; TARGET=SECONDS gives one target its own budget. --bin-dir runs
# binaries built earlier (copied out of the target directory) instead of building. The fuzz crate is built once (nightly, release with debug
# assertions and AddressSanitizer, in $CARGO_TARGET_DIR when set, else fuzz/target); each
# target then starts from its committed seeds (fuzz/corpus/<target>/) in a temporary
# working corpus. The image target's seeds are generated at run time
# (scripts/fuzz_seed_images.py), never committed. --update-seeds copies inputs that found
# new coverage back into fuzz/corpus/<target>/, only small UTF-8 text files and never for
# the image target. --quick-build builds unoptimised and without a sanitizer (cargo fuzz
# build --dev -s none: minutes, not most of an hour, from cold), for CI's short smoke runs;
# the long runs use the default build. --summary appends the per-target figures as Markdown table rows.
#
# FUZZ_FLAGS adds libFuzzer flags to every run (e.g. FUZZ_FLAGS=-max_len=1024).
#
# What it must never do: copy crash inputs or any binary file into the repository (crash
# reproducers stay in $FUZZ_ARTIFACTS, default /tmp/guardrail-fuzz-artifacts), or run two
# targets at once (the machines it runs on are shared).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

budget=60
update_seeds=0
summary=""
bin_dir_given=""
quick_build=0
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --budget) budget="$2"; shift 2 ;;
    --update-seeds) update_seeds=1; shift ;;
    --summary) summary="$2"; shift 2 ;;
    --bin-dir) bin_dir_given="$2"; shift 2 ;;
    --quick-build) quick_build=1; shift ;;
    -h|--help) sed -n "2,23p" "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
case "$budget" in
  ''|*[!0-9]*) echo "fuzz.sh: --budget takes whole seconds, got '$budget'" >&2; exit 2 ;;
esac

if ! rustc +nightly --version >/dev/null 2>&1; then
  echo "== no nightly toolchain (cargo-fuzz needs one): installing it with rustup"
  rustup toolchain install nightly --profile minimal
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "== cargo-fuzz is missing: installing it from crates.io"
  cargo +nightly install cargo-fuzz --locked
fi

if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cd fuzz && cargo +nightly fuzz list)
fi

if [ -n "$bin_dir_given" ]; then
  bin_dir="$bin_dir_given"
else
  triple=$(rustc +nightly -vV | sed -n 's/^host: //p')
  if [ "$quick_build" -eq 1 ]; then
    echo "== building the fuzz targets (once; quick: unoptimised, no sanitizer)"
    (cd fuzz && cargo +nightly fuzz build --dev -s none)
    bin_dir="${CARGO_TARGET_DIR:-$root/fuzz/target}/$triple/debug"
  else
    echo "== building the fuzz targets (once)"
    (cd fuzz && cargo +nightly fuzz build)
    bin_dir="${CARGO_TARGET_DIR:-$root/fuzz/target}/$triple/release"
  fi
fi

artifacts="${FUZZ_ARTIFACTS:-/tmp/guardrail-fuzz-artifacts}"
mkdir -p "$artifacts"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

crashed=0
total_execs=0
results=()
for spec in "${targets[@]}"; do
  target="${spec%%=*}"
  seconds_for="$budget"
  [ "$spec" = "$target" ] || seconds_for="${spec#*=}"
  binary="$bin_dir/$target"
  if [ ! -x "$binary" ]; then
    echo "fuzz.sh: no target $target (built: $(ls "$bin_dir" 2>/dev/null | tr '\n' ' '))" >&2
    exit 2
  fi
  corpus="$work/$target/corpus"
  seeds="$work/$target/seeds"
  mkdir -p "$corpus" "$seeds" "$artifacts/$target"
  if [ -d "fuzz/corpus/$target" ]; then
    cp -r "fuzz/corpus/$target/." "$seeds/"
  fi
  # shellcheck disable=SC2206
  extra=(${FUZZ_FLAGS:-})
  if [ "$target" = image_decode ]; then
    python3 scripts/fuzz_seed_images.py "$seeds" >/dev/null
    # A decoder that allocates for a header's declared size before checking the limits
    # is a crash here even if the allocation would have succeeded.
    extra+=(-malloc_limit_mb=256)
  fi
  log="$work/$target/log"
  echo "== $target: ${seconds_for} s"
  start=$(date +%s)
  touch "$work/$target/started"
  status=0
  "$binary" "$corpus" "$seeds" -max_total_time="$seconds_for" -timeout=30 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts/$target/" "${extra[@]}" >"$log" 2>&1 || status=$?
  seconds=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  execs=${execs:-0}
  crashes=0
  if [ "$status" -ne 0 ]; then
    crashes=$(find "$artifacts/$target" -newer "$work/$target/started" -type f | wc -l)
    [ "$crashes" -gt 0 ] || crashes=1
    crashed=1
    echo "!! $target failed (exit $status); its reproducers are in $artifacts/$target/:"
    grep -E "panicked at|ERROR: |SUMMARY|Test unit written" "$log" | head -20 || tail -30 "$log"
  fi
  total_execs=$((total_execs + execs))
  rate=$(( execs / (seconds > 0 ? seconds : 1) ))
  results+=("$target $execs $seconds $rate $crashes")
  if [ "$update_seeds" -eq 1 ] && [ "$target" != image_decode ] && [ "$status" -eq 0 ]; then
    mkdir -p "fuzz/corpus/$target"
    merged="$work/$target/merged"
    mkdir -p "$merged"
    "$binary" -merge=1 "$merged" "fuzz/corpus/$target" "$corpus" >/dev/null 2>&1 || true
    for file in "$merged"/*; do
      [ -f "$file" ] || continue
      size=$(stat -c %s "$file")
      # Seeds stay small text: no binary, nothing over 2 KiB.
      if [ "$size" -le 2048 ] && python3 -c 'import sys; open(sys.argv[1], encoding="utf-8").read()' "$file" 2>/dev/null \
        && ! grep -qP '[\x00-\x08\x0e-\x1f]' <(tail -c +3 "$file"); then
        cp -n "$file" "fuzz/corpus/$target/"
      fi
    done
  fi
done

echo
printf '%-16s %14s %8s %10s %8s\n' target executions seconds "execs/s" crashes
for row in "${results[@]}"; do
  # shellcheck disable=SC2086
  printf '%-16s %14s %8s %10s %8s\n' $row
  if [ -n "$summary" ]; then
    set -- $row
    echo "| $1 | $2 | $3 | $4 | $5 |" >>"$summary"
  fi
done
printf '%-16s %14s\n' total "$total_execs"
if [ "$crashed" -ne 0 ]; then
  echo "fuzz.sh: crashes found; reproducers in $artifacts (never commit them; turn each into a unit test)" >&2
  exit 1
fi
