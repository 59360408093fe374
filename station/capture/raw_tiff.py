"""A scanner's pixels as a lossless TIFF, written fast: zstd strips at a low level.

Pillow writes zstd TIFFs through libtiff at libtiff's default zstd level (9), which
cost 2.1-2.3 s of CPU for a 300-dpi A3 spread here, more than processing the spread
(about 1 s, ``bench/page_cpu.py``); Pillow has no way to pass the level. This module
writes the same kind of file (baseline TIFF 6.0, one image, 8-bit grey or RGB,
compression 50000 "zstd", predictor 2 "horizontal differencing", resolution in dpi),
so every reader with zstd support (libtiff 4.0.10+, hence Pillow, GDAL, ImageMagick,
tiffinfo) opens it, but compresses each strip with the zstandard library at level 3
on two threads (zstandard lets go of the GIL): 0.45 s of CPU and 0.27 s of wall time
for the same spread, and a file about as small (``bench/tap_to_cuts.py`` prints the
figures). The horizontal differencing is one numpy subtraction.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import zstandard
from numpy.typing import NDArray

#: zstd level: 3 is zstd's own default; higher levels cost far more CPU for little.
LEVEL = 3
#: Rows per strip: strips of about 1-2 MB keep both threads busy and the index small.
ROWS_PER_STRIP = 128
#: Threads compressing strips (the station has 2-4 cores).
WORKERS = 2
#: TIFF compression tag value for zstd (Adobe-registered, libtiff's COMPRESSION_ZSTD).
COMPRESSION_ZSTD = 50000

_SHORT, _LONG, _RATIONAL = 3, 4, 5
#: struct codes of the field types (a RATIONAL is two LONGs).
_CODES = {_SHORT: "H", _LONG: "I", _RATIONAL: "I"}


def horizontal_difference(pixels: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """TIFF predictor 2: each sample minus the same sample of the pixel on its left
    (modulo 256); the first pixel of each row is kept."""
    out = np.empty_like(pixels)
    out[:, :1] = pixels[:, :1]
    np.subtract(pixels[:, 1:], pixels[:, :-1], out=out[:, 1:])
    return out


def tiff_bytes(pixels: NDArray[np.uint8], dpi: int) -> bytes:
    """``pixels`` (H x W grey or H x W x 3 RGB, uint8) as a zstd TIFF with ``dpi``."""
    if pixels.dtype != np.uint8 or pixels.ndim not in (2, 3):
        raise ValueError(f"8-bit grey or RGB pixels expected, got {pixels.dtype} {pixels.shape}")
    if pixels.ndim == 3 and pixels.shape[2] != 3:
        raise ValueError(f"3 samples per pixel expected, got {pixels.shape[2]}")
    height, width = pixels.shape[:2]
    samples = 1 if pixels.ndim == 2 else 3
    differenced = horizontal_difference(pixels)
    strips = [differenced[top : top + ROWS_PER_STRIP] for top in range(0, height, ROWS_PER_STRIP)]

    def compress(strip: NDArray[np.uint8]) -> bytes:
        # One compressor per call: a ZstdCompressor must not be shared between threads.
        return zstandard.ZstdCompressor(level=LEVEL).compress(strip.tobytes())

    with ThreadPoolExecutor(WORKERS) as pool:
        compressed = list(pool.map(compress, strips))
    return _assemble(width, height, samples, max(1, dpi), compressed)


def _assemble(width: int, height: int, samples: int, dpi: int, strips: Sequence[bytes]) -> bytes:
    """Header, strips, then the one IFD and the values that do not fit in its entries."""
    offsets = []
    position = 8
    for strip in strips:
        offsets.append(position)
        position += len(strip)
    ifd_offset = position + position % 2  # an IFD starts on a word boundary
    bits = [8] * samples
    photometric = 2 if samples == 3 else 1  # RGB, or black is zero
    resolution = (dpi, 1)
    # (tag, type, values) in ascending tag order, as TIFF requires.
    tags: list[tuple[int, int, Sequence[int]]] = [
        (256, _LONG, [width]),
        (257, _LONG, [height]),
        (258, _SHORT, bits),
        (259, _SHORT, [COMPRESSION_ZSTD]),
        (262, _SHORT, [photometric]),
        (273, _LONG, offsets),
        (277, _SHORT, [samples]),
        (278, _LONG, [ROWS_PER_STRIP]),
        (279, _LONG, [len(s) for s in strips]),
        (282, _RATIONAL, resolution),
        (283, _RATIONAL, resolution),
        (284, _SHORT, [1]),  # samples interleaved
        (296, _SHORT, [2]),  # resolution in inches
        (317, _SHORT, [2]),  # predictor: horizontal differencing
    ]
    extra_at = ifd_offset + 2 + len(tags) * 12 + 4
    extra = bytearray()
    ifd = bytearray(struct.pack("<H", len(tags)))
    for tag, kind, values in tags:
        packed = struct.pack("<" + _CODES[kind] * len(values), *values)
        count = len(values) // 2 if kind == _RATIONAL else len(values)
        if len(packed) <= 4:
            ifd += struct.pack("<HHI", tag, kind, count) + packed.ljust(4, b"\x00")
        else:
            ifd += struct.pack("<HHII", tag, kind, count, extra_at + len(extra))
            extra += packed + b"\x00" * (len(packed) % 2)
    ifd += struct.pack("<I", 0)  # no next IFD
    head = b"II*\x00" + struct.pack("<I", ifd_offset)
    pad = b"\x00" * (ifd_offset - position)
    return b"".join([head, *strips, pad, bytes(ifd), bytes(extra)])
