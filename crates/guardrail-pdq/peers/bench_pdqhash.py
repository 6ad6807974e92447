"""Times PyPI `pdqhash` hashing JPEG files end to end, as its users run it: decode with
Pillow, convert to RGB, `pdqhash.compute`. One core. Prints one JSON object with the
median ("seconds") and the best of ROUNDS passes over all files.

Usage: python3 bench_pdqhash.py DIR [ROUNDS]
"""
import io
import json
import os
import sys
import time
from importlib.metadata import version

import numpy as np
import pdqhash
from PIL import Image


def main(directory, rounds):
    paths = sorted(os.path.join(directory, n) for n in os.listdir(directory) if n.endswith(".jpg"))
    blobs = []
    for path in paths:
        with open(path, "rb") as handle:
            blobs.append(handle.read())
    passes = []
    for _ in range(rounds):
        start = time.perf_counter()
        for blob in blobs:
            image = np.asarray(Image.open(io.BytesIO(blob)).convert("RGB"))
            pdqhash.compute(image)
        passes.append(time.perf_counter() - start)
    median = sorted(passes)[len(passes) // 2]
    print(json.dumps({
        "version": version("pdqhash"),
        "images": len(blobs),
        "seconds": median,
        "best_seconds": min(passes),
        "images_per_second": len(blobs) / median,
    }))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3)
