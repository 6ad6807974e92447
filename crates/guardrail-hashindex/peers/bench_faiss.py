"""Times faiss-cpu on the same bank and queries as the Rust benchmark, one thread.

Usage: python3 bench_faiss.py BANK.bin QUERIES.bin THRESHOLD
BANK.bin: N × 32 bytes (canonical PDQ bytes); QUERIES.bin: Q × 8 × 32 bytes (8 dihedral
hashes per query). Prints one JSON object: per-query milliseconds for IndexBinaryFlat
range_search (all 8 hashes in one call) and for IndexBinaryMultiHash(256, 16, 16) with
nflip = threshold // 16, as python-threatexchange configures it, plus its build time and
the match count (to check both engines find the same matches).
"""
import json
import sys
import time

import faiss
import numpy as np


def main(bank_path, queries_path, threshold):
    faiss.omp_set_num_threads(1)
    bank = np.fromfile(bank_path, dtype=np.uint8).reshape(-1, 32)
    queries = np.fromfile(queries_path, dtype=np.uint8).reshape(-1, 8, 32)
    radius = threshold + 1  # faiss range_search radius is exclusive

    flat = faiss.IndexBinaryFlat(256)
    flat.add(bank)
    start = time.perf_counter()
    flat_matches = 0
    for query in queries:
        lims, _, _ = flat.range_search(query, radius)
        flat_matches += int(lims[-1])
    flat_ms = (time.perf_counter() - start) * 1000 / len(queries)

    start = time.perf_counter()
    mih = faiss.IndexBinaryMultiHash(256, 16, 16)
    mih.add(bank)
    mih.nflip = threshold // 16
    build_s = time.perf_counter() - start
    start = time.perf_counter()
    mih_matches = 0
    for query in queries:
        lims, _, _ = mih.range_search(query, radius)
        mih_matches += int(lims[-1])
    mih_ms = (time.perf_counter() - start) * 1000 / len(queries)
    print(json.dumps({
        "flat_ms_per_query": flat_ms,
        "flat_matches": flat_matches,
        "mih_ms_per_query": mih_ms,
        "mih_build_s": build_s,
        "mih_matches": mih_matches,
    }))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
