"""Hashes raw RGB files with PyPI `pdqhash` (bindings to Meta's reference C++).

Usage: python3 pdq_oracle.py DIR
Reads every DIR/NAME_WxH.rgb (interleaved 8-bit RGB, row-major) and prints one JSON
object per file: {"name", "hash", "quality", "dihedral": [8 hex hashes],
"dihedral_quality"}, hashes in the reference's hex form. The binding computes luma in
numpy f64 (then f32), not with the reference's f32 formula; the Rust test accounts for it. Used by crates/guardrail-pdq/tests/differential.rs.
"""
import json
import os
import sys

import numpy as np
import pdqhash


def to_hex(bits):
    return format(int("".join(str(int(b)) for b in bits), 2), "064x")


def main(directory):
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".rgb"):
            continue
        stem = name[:-4]
        size = stem.rsplit("_", 1)[1]
        width, height = (int(v) for v in size.split("x"))
        with open(os.path.join(directory, name), "rb") as handle:
            data = handle.read()
        image = np.frombuffer(data, dtype=np.uint8).reshape((height, width, 3))
        vector, quality = pdqhash.compute(image)
        vectors, dihedral_quality = pdqhash.compute_dihedral(image)
        print(json.dumps({
            "name": stem,
            "hash": to_hex(vector),
            "quality": int(quality),
            "dihedral": [to_hex(v) for v in vectors],
            "dihedral_quality": int(dihedral_quality),
        }))


if __name__ == "__main__":
    main(sys.argv[1])
