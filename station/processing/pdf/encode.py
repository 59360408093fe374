"""The encoding ladder: one entry image in, one PDF within the byte budget out.

Rungs are tried best first and the first that fits wins:

1. ``composite``: 300-dpi G4 ink masks, one per hue of ink, each painted in its
   ink's colour, and a G4 seal mask painted red, over a 50-dpi colour JPEG of the
   paper;
2. ``composite_lowbg``: the same over a coarser, lower-quality background;
3. ``bilevel``: the two masks on white; ``bilevel_200``: the same at 200 dpi;
4. ``grey_<dpi>_q<quality>``: paper-flattened greyscale JPEG, never below 150 dpi
   or quality 30 (flag ``greyscale_fallback``).

Every rung is legible by construction, so when none fits the smallest one is
returned with the flag ``over_budget``, which the entry keeps and the counts show
(:mod:`station.processing.page`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial

from station.core.errors import EncodeError
from station.core.models import kb_bytes
from station.processing.imaging.binarize import BinarizeParams
from station.processing.pdf.rungs import (
    Pixels,
    Prepared,
    bilevel,
    composite,
    greyscale,
    prepare,
    rgb_array,
)

log = logging.getLogger(__name__)

DEFAULT_BUDGET = kb_bytes(100)


@dataclass(frozen=True)
class EncodeOptions:
    """Settings of the ladder; the defaults follow IMAGING_NOTES.md."""

    max_mask_dpi: int = 300
    #: Masks of one region hold at most this many pixels: a whole 42-megapixel spread
    #: page at 300 dpi made 570 MB of temporaries in the masks; at 12 MP it stays
    #: under the 600 MB the station may use (an entry is far smaller: 1-4 MP).
    max_mask_pixels: int = 12_000_000
    min_mask_dpi: int = 200
    background: tuple[int, int] = (
        50,
        65,
    )  # dpi, JPEG quality: smooth paper costs ~1 KB more than q40, without blotchy blocks
    low_background: tuple[int, int] = (25, 30)
    #: The last rungs, for dense whole pages (a page that went whole to review): a
    #: bilevel mask at 150 dpi, then greyscale down to 120 dpi.
    last_mask_dpi: int = 150
    grey_dpis: tuple[int, ...] = (200, 150, 120)
    grey_qualities: tuple[int, ...] = (60, 45, 30)
    min_dpi: int = 50
    max_dpi: int = 1200
    binarize: BinarizeParams = field(default_factory=BinarizeParams)


@dataclass(frozen=True)
class Attempt:
    """One rung tried: its name and the size of the PDF it made."""

    name: str
    size: int


@dataclass
class EncodeResult:
    """The PDF of one entry and how it was made."""

    data: bytes
    encoding: str
    flags: list[str]
    attempts: list[Attempt]
    width_px: int
    height_px: int
    dpi: int


Rung = tuple[str, Callable[[Prepared], bytes]]


def encode_entry(
    image: Pixels,
    dpi: int,
    budget_bytes: int = DEFAULT_BUDGET,
    *,
    options: EncodeOptions | None = None,
    info: Mapping[str, str] | None = None,
    entry: str = "?",
) -> EncodeResult:
    """Encode one entry's own pixels into a PDF of at most ``budget_bytes``.

    ``image`` is the entry alone (never a larger page), a Pillow image or an RGB array
    (used without a copy); the PDF page is its pixels at ``dpi``. ``info`` fills the
    document information dictionary. Raises :class:`EncodeError` for an unusable
    image or dpi.
    """
    options = options or EncodeOptions()
    started = time.perf_counter()
    rgb = rgb_array(image)
    size = (rgb.shape[1], rgb.shape[0])
    _check_input(size, dpi, options, entry)
    prepared = prepare(rgb, dpi, _mask_dpi(size, dpi, options), options.binarize, info or {})
    best: tuple[str, bytes] | None = None
    attempts: list[Attempt] = []
    for name, build in _rungs(prepared, options):
        data = build(prepared)
        attempts.append(Attempt(name, len(data)))
        if best is None or len(data) < len(best[1]):
            best = (name, data)
        if len(data) <= budget_bytes:
            best = (name, data)
            break
    assert best is not None  # the ladder always has rungs
    result = _result(best, attempts, prepared, size, dpi, budget_bytes)
    log.info(
        "entry %s: %s, %d bytes, flags %s, %.2f s",
        entry,
        result.encoding,
        len(result.data),
        result.flags,
        time.perf_counter() - started,
    )
    return result


def _mask_dpi(size: tuple[int, int], dpi: int, options: EncodeOptions) -> int:
    """The dpi the masks of a region of ``size`` (width, height) are made at:
    ``max_mask_dpi``, or less for a region so large that its masks would exceed
    ``max_mask_pixels`` (a whole page sent to review)."""
    width, height = size
    at_max = width * height * (min(dpi, options.max_mask_dpi) / dpi) ** 2
    if at_max <= options.max_mask_pixels:
        return options.max_mask_dpi
    scale = (options.max_mask_pixels / at_max) ** 0.5
    return max(options.min_dpi, int(min(dpi, options.max_mask_dpi) * scale))


def _check_input(size: tuple[int, int], dpi: int, options: EncodeOptions, entry: str) -> None:
    if not options.min_dpi <= dpi <= options.max_dpi:
        detail = f"dpi {dpi} outside {options.min_dpi}-{options.max_dpi}"
        raise EncodeError("encode.bad_input", entry=entry, detail=detail)
    width, height = size
    if width < 8 or height < 8:
        detail = f"image {width}x{height} px is too small"
        raise EncodeError("encode.bad_input", entry=entry, detail=detail)


def _rungs(prepared: Prepared, options: EncodeOptions) -> Iterator[Rung]:
    """The ladder, best first; each rung builds its PDF only when reached."""
    yield "composite", lambda p: composite(p, *options.background)
    yield "composite_lowbg", lambda p: composite(p, *options.low_background)
    yield "bilevel", lambda p: bilevel(p, p.mask_dpi)
    for mask_dpi in (options.min_mask_dpi, options.last_mask_dpi):
        if prepared.mask_dpi > mask_dpi:
            yield f"bilevel_{mask_dpi}", partial(bilevel, mask_dpi=mask_dpi)
    for grey_dpi in sorted({min(d, prepared.mask_dpi) for d in options.grey_dpis}, reverse=True):
        for quality in options.grey_qualities:
            name = f"grey_{round(grey_dpi)}_q{quality}"
            yield name, partial(greyscale, dpi=grey_dpi, quality=quality)


def _result(
    best: tuple[str, bytes],
    attempts: list[Attempt],
    prepared: Prepared,
    size: tuple[int, int],
    dpi: int,
    budget_bytes: int,
) -> EncodeResult:
    name, data = best
    flags: list[str] = []
    if prepared.masks.assessment.faded:
        flags.append("faded")
    if prepared.masks.enhanced:
        flags.append("ink_enhanced")
    if name.startswith("grey_"):
        flags.append("greyscale_fallback")
    if len(data) > budget_bytes:
        flags.append("over_budget")
    return EncodeResult(data, name, flags, attempts, *size, dpi)


__all__ = ["Attempt", "EncodeOptions", "EncodeResult", "Pixels", "encode_entry"]
