#!/usr/bin/env bash
# Hashing 512x512 JPEGs end to end, guardrail-pdq against PyPI pdqhash, on the same
# generated files in one run, one core each. Prints a Markdown table for BENCHMARKS.md.
#
# Usage: crates/guardrail-pdq/peers/bench.sh [IMAGES]   (default 100)
# Needs: python3 with peers/requirements.txt installed (done here if missing).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
images="${1:-100}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python3 -c "import pdqhash, numpy, PIL" 2>/dev/null ||
  python3 -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"

cd "$root"
# One core for both sides: both hashers are single-threaded; pinning keeps it explicit.
pin=()
command -v taskset >/dev/null && pin=(taskset -c 0)
GUARDRAIL_BENCH_DIR="$work/jpeg" GUARDRAIL_BENCH_IMAGES="$images" \
  "${pin[@]}" cargo bench -p guardrail-pdq --bench hash >"$work/criterion.txt" 2>&1 ||
  { cat "$work/criterion.txt"; exit 1; }
"${pin[@]}" python3 "$here/bench_pdqhash.py" "$work/jpeg" 5 >"$work/peer.json"

python3 - "$target/criterion/pdq_512_jpeg" "$work/peer.json" "$images" <<'PY'
import json, sys
group, peer_path, images = sys.argv[1], sys.argv[2], sys.argv[3]
def ms(name):
    with open(f"{group}/{name}/new/estimates.json") as f:
        return json.load(f)["median"]["point_estimate"] / 1e6
ours = {n: ms(n) for n in ("decode_and_hash", "decode", "hash")}
peer = json.load(open(peer_path))
peer_ms = 1e3 * peer["seconds"] / peer["images"]
print(f"PDQ hashing, {images} generated 512x512 JPEGs (quality 90), one core, medians\n")
print("| engine | ms/image | images/s |")
print("|---|---:|---:|")
rows = [
    ("guardrail-pdq: decode + hash", ours["decode_and_hash"]),
    ("  of which decode (image-rs / zune-jpeg)", ours["decode"]),
    ("  of which hash", ours["hash"]),
    (f"pdqhash {peer['version']}: Pillow decode + reference C++", peer_ms),
]
for name, value in rows:
    print(f"| {name} | {value:.2f} | {1e3 / value:.0f} |")
print(f"\nguardrail-pdq is {peer_ms / ours['decode_and_hash']:.2f}x pdqhash end to end")
PY
