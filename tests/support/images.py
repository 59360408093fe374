"""Page images as devices and phones hand them over, made by code."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

from station.capture.drivers.simulated.scanner import SimulatedScanner


def jpeg_bytes(dpi: int = 300, size: tuple[int, int] = (240, 160)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "white").save(buffer, "JPEG", dpi=(dpi, dpi), quality=90)
    return buffer.getvalue()


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A valid-looking PNG that declares ``width`` x ``height`` pixels in ~100 bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\0" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def ledger_jpeg(seed: int = 3) -> bytes:
    """A simulated ledger page as a device would save it (JPEG with its dpi)."""
    scanner = SimulatedScanner({"dpi": 150, "output": "jpeg", "seed": seed})
    scanner.open()
    page = next(iter(scanner.capture(1)))
    scanner.close()
    assert page.encoded is not None
    return page.encoded
