#!/usr/bin/env python3
"""Writes seed images for the image_decode fuzz target into a directory, at run time.

What it is for: scripts/fuzz.sh calls it so that the image target starts from valid
PNG, BMP, GIF, TIFF, JPEG-header and WebP-header files, and from decompression-bomb
shaped headers (huge declared dimensions, a tiny deflate stream that inflates far past
its size). Every picture is abstract: seeded noise, gradients and flat shapes.

What it must never do: write into the repository (image files are never committed), use
anything but the standard library, or produce anything but abstract pixels.
"""

import random
import struct
import sys
import zlib
from pathlib import Path


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width: int, height: int, colour: int, depth: int, rows: bytes, palette: bytes = b"") -> bytes:
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    out = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header)
    if palette:
        out += png_chunk(b"PLTE", palette)
    return out + png_chunk(b"IDAT", zlib.compress(rows, 9)) + png_chunk(b"IEND", b"")


def raster(width: int, height: int, channels: int, pixel) -> bytes:
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter: none
        for x in range(width):
            rows.extend(pixel(x, y)[:channels])
    return bytes(rows)


def bmp(width: int, height: int, pixel) -> bytes:
    stride = (width * 3 + 3) // 4 * 4
    data = bytearray()
    for y in reversed(range(height)):
        row = bytearray()
        for x in range(width):
            r, g, b = pixel(x, y)[:3]
            row += bytes((b, g, r))
        data += row + b"\0" * (stride - len(row))
    header = struct.pack("<2sIHHI", b"BM", 54 + len(data), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, len(data), 2835, 2835, 0, 0)
    return header + info + bytes(data)


def tiff(width: int, height: int, pixel) -> bytes:
    strip = bytearray()
    for y in range(height):
        for x in range(width):
            strip += bytes(pixel(x, y)[:3])
    entries = [
        (256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8), (259, 3, 1, 1),
        (262, 3, 1, 2), (273, 4, 1, 8), (277, 3, 1, 3), (278, 4, 1, height),
        (279, 4, 1, len(strip)),
    ]
    ifd_offset = 8 + len(strip)
    out = b"II*\x00" + struct.pack("<I", ifd_offset) + bytes(strip)
    out += struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        packed = struct.pack("<H", value) + b"\0\0" if kind == 3 else struct.pack("<I", value)
        out += struct.pack("<HHI", tag, kind, count) + packed
    return out + struct.pack("<I", 0)


def gif(width: int, height: int, screen: tuple) -> bytes:
    """A GIF of one flat colour: every code is 'clear' then the colour, 9-bit codes."""
    out = b"GIF89a" + struct.pack("<HHBBB", screen[0], screen[1], 0xF0, 0, 0)
    out += bytes((40, 90, 160, 220, 200, 30))  # two palette entries
    out += b"," + struct.pack("<HHHHB", 0, 0, width, height, 0)
    # LZW with min code size 2: clear (4), then pixel 1 repeatedly, resetting often.
    codes, bits = [], 3
    count = width * height
    for i in range(count):
        if i % 2 == 0:
            codes.append(4)
        codes.append(1)
    codes.append(5)  # end
    stream, acc, nbits = bytearray(), 0, 0
    for code in codes:
        acc |= code << nbits
        nbits += bits
        while nbits >= 8:
            stream.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8
    if nbits:
        stream.append(acc & 0xFF)
    out += b"\x02"
    for i in range(0, len(stream), 255):
        block = stream[i:i + 255]
        out += bytes((len(block),)) + block
    return out + b"\x00;"


def jpeg_header(width: int, height: int) -> bytes:
    """SOI, a quantisation table, SOF0 declaring the size, and nothing else (truncated)."""
    dqt = b"\xff\xdb" + struct.pack(">H", 67) + b"\x00" + bytes(range(1, 65))
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, height, width, 3)
    sof += b"\x01\x11\x00\x02\x11\x00\x03\x11\x00"
    return b"\xff\xd8" + dqt + sof + b"\xff\xd9"


def webp_vp8x(width: int, height: int) -> bytes:
    body = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00"
    body += (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: fuzz_seed_images.py OUTPUT_DIR", file=sys.stderr)
        return 2
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(18)
    noise = lambda x, y: bytes(rng.randrange(256) for _ in range(4))
    gradient = lambda x, y: bytes(((x * 9) % 256, (y * 7) % 256, ((x + y) * 3) % 256, 255))
    shapes = lambda x, y: bytes((200, 40, 40, 255)) if (x - 12) ** 2 + (y - 10) ** 2 < 40 else bytes((20, 60, 180, 255))
    seeds = {
        "noise.png": png(16, 16, 2, 8, raster(16, 16, 3, noise)),
        "gradient-grey.png": png(40, 30, 0, 8, raster(40, 30, 1, gradient)),
        "shapes-rgba.png": png(24, 20, 6, 8, raster(24, 20, 4, shapes)),
        "palette.png": png(8, 8, 3, 8, raster(8, 8, 1, lambda x, y: bytes(((x ^ y) % 3,))),
                           bytes((10, 20, 30, 200, 100, 50, 0, 255, 128))),
        "deep.png": png(6, 5, 2, 16, raster(6, 5, 6, lambda x, y: bytes(rng.randrange(256) for _ in range(6)))),
        "shapes.bmp": bmp(20, 10, shapes),
        "gradient.tiff": tiff(12, 9, gradient),
        "flat.gif": gif(6, 4, (6, 4)),
        "small.jpg-header": jpeg_header(16, 16),
        # Decompression-bomb shapes: huge declared sizes with (almost) no data, and a
        # tiny deflate stream that inflates to far more than its pixels.
        "bomb-huge.png": png(100_000, 100_000, 2, 8, b""),
        "bomb-inflate.png": png(1000, 1000, 2, 8, bytes(1000 * 3001)),
        "bomb-wide.png": png(0x7FFFFFFF, 1, 0, 1, b"\0"),
        "bomb.bmp": bmp(1, 1, noise)[:18] + struct.pack("<ii", 60_000, 60_000) + bmp(1, 1, noise)[26:],
        "bomb.gif": gif(2, 2, (65_535, 65_535)),
        "bomb-frame.gif": gif(2, 2, (2, 2)).replace(struct.pack("<HHHH", 0, 0, 2, 2), struct.pack("<HHHH", 0, 0, 65_535, 65_535)),
        "bomb.jpg-header": jpeg_header(65_500, 65_500),
        "bomb.webp-header": webp_vp8x(16_384, 16_384),
        "bomb.tiff": tiff(1, 1, noise).replace(struct.pack("<HHII", 256, 4, 1, 1), struct.pack("<HHII", 256, 4, 1, 2_000_000_000)),
    }
    for name, data in seeds.items():
        (out / name).write_bytes(data)
    print(f"{len(seeds)} seed images in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
