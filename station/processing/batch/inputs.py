"""The inputs of ``station process``: which image files, in which order, at which dpi.

Kept apart from the processing loop because each rule here is a small decision with its
own reason: folders are read in *natural* order (phones number photos ``IMG_2``,
``IMG_10``), and a photo's dpi is usually unknown or a meaningless 72, so it is
estimated from the ledger's physical size.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from collections.abc import Sequence
from pathlib import Path

from station.core.errors import UsageError
from station.core.layouts import LayoutProfile

log = logging.getLogger(__name__)

#: File name endings taken from a folder (compared case-insensitively). A file named
#: explicitly on the command line is always tried, whatever its name.
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".tif", ".tiff"})

#: Width of one ledger page: the books are A4 (210 mm); a spread is two of them (A3).
PAGE_WIDTH_MM = 210.0
MM_PER_INCH = 25.4

#: Share of a photo's width the ledger fills. A phone photo frames the book with a
#: little desk around it; the simulator's camera mode leaves about 18 %.
PHOTO_FILL = 0.85

#: A stated dpi is believed only if it puts the page's width within this factor of the
#: ledger's real width. Phones write 72 dpi into every photo, which would make a
#: 4000-pixel spread 1.4 m wide.
DPI_TRUST_FACTOR = 1.6

#: The encoder's accepted range; an estimate is kept inside it.
MIN_DPI, MAX_DPI = 50, 1200

_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key so that runs of digits compare as numbers: ``IMG_2`` < ``IMG_10``.

    Text compares case-insensitively; a number sorts before text at the same place,
    so every key is comparable with every other.
    """
    parts: list[tuple[int, int | str]] = []
    for index, piece in enumerate(_DIGITS.split(name)):
        if not piece:
            continue
        parts.append((0, int(piece)) if index % 2 else (1, piece.casefold()))
    return tuple(parts)


def collect_images(paths: Sequence[Path]) -> list[Path]:
    """The image files to process, in order: each argument in turn, a folder expanded
    to its image files in natural order (hidden files and sub-folders left out).

    Raises :class:`UsageError` before any work when an argument does not exist or
    nothing is left to process, since that is a typing mistake, not a bad image.
    """
    images: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = [
                p
                for p in path.iterdir()
                if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES
            ]
            images.extend(sorted(found, key=lambda p: natural_key(p.name)))
        elif path.exists():
            images.append(path)
        else:
            raise UsageError("batch.no_input", path=str(path))
    if not images:
        raise UsageError("batch.no_images", paths=", ".join(str(p) for p in paths))
    return images


def estimate_dpi(width_px: int, profile: LayoutProfile) -> int:
    """The dpi of a photo without (believable) dpi metadata, from its width.

    The ledger is ``PAGE_WIDTH_MM`` wide per page (an A3 spread is 420 mm, an A4 page
    210 mm) and is assumed to fill ``PHOTO_FILL`` of the photo's width, so the ledger
    spans ``width_px * PHOTO_FILL`` pixels. The result is a physical scale for the
    PDF page and the segmentation's working size, good to about 10 %; it is kept within
    the encoder's range.
    """
    width_mm = PAGE_WIDTH_MM * profile.pages_per_image
    dpi = round(width_px * PHOTO_FILL * MM_PER_INCH / width_mm)
    return max(MIN_DPI, min(MAX_DPI, dpi))


def resolve_dpi(stated: int | None, width_px: int, profile: LayoutProfile) -> tuple[int, str]:
    """The dpi to use and where it came from (``"metadata"`` or ``"estimated"``)."""
    if stated:
        width_mm = width_px * MM_PER_INCH / stated
        ledger_mm = PAGE_WIDTH_MM * profile.pages_per_image
        if 1 / DPI_TRUST_FACTOR <= width_mm / ledger_mm <= DPI_TRUST_FACTOR:
            return stated, "metadata"
        log.debug("stated %d dpi makes the image %.0f mm wide: estimating", stated, width_mm)
    return estimate_dpi(width_px, profile), "estimated"


def file_facts(path: Path) -> tuple[str, str]:
    """SHA-256 of a source file (read in chunks, never whole) and its modification
    time as UTC ISO-8601: the closest thing to a capture time a copied photo has."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    mtime = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).replace(microsecond=0)
    return digest.hexdigest(), mtime.isoformat().replace("+00:00", "Z")
