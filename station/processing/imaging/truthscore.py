"""Scoring entry cuts against a real page's ground truth (the acceptance of issue 13).

Used by ``bench/real_pages.py`` and its tests, never on the page path: like
:mod:`station.processing.imaging.cutcheck`, it is the rule the imaging is judged by,
kept beside the code it judges so both read the same geometry. Everything here is in
the pixel grid of the source file as stored (EXIF orientation not applied), the grid
of the ground truth and of the ``polygon`` of each entry in ``station process``'s
report.

The rules, per image:

- **exact**: a true entry is exact when one output region holds at least
  ``EXACT_OWN`` (95%) of its polygon's area and under ``EXACT_OTHER`` (3%) of every
  other true entry's.
- **exact by writing** (``exact_writing``, reported beside ``exact``): the same
  thresholds on the entry's writing instead of its polygon: the area of its text-line
  polygons (the letters' body band of each line, see ``SOURCES.md``) a region holds;
  an entry without line polygons counts its polygon. Blank paper between two entries
  belongs to either: the ground truth puts that boundary by each source's convention
  (median per page, measured from the line polygons: on ``bronod1_0059`` and
  ``rep_riant4_06480_L-0`` 0-2 px under the last line of the entry above, on the
  randomset pages 1 px over the first line of the entry below, on the others in
  between; the blanks are 35-120 px beside entries 110-440 px high), so under the
  polygon rule a cut in the middle of the blank can be as wrong as one through a line,
  and a cut through the letters may be right. The writing rule tells them apart; the
  polygon rule stays the acceptance figure.
- **leaked**: a true entry with at least ``EXACT_OTHER`` of its area inside a region
  that belongs to another entry (the entry with the largest share inside it): part of
  it is in someone else's file.
- **split line**: a true text line whose best region holds under ``EXACT_OWN`` of it
  while a second region holds at least ``EXACT_OTHER``: the line is cut in two.
  Reported beside it, **split by ink** (``split_ink``): the same rule on the line's
  ink (the ink mask's cells inside its polygon). The line polygons of the randomset
  pages tile the page (one line's polygon ends where the next begins, some overlap by
  up to 9 px), so a cut in the paper between two lines of writing can still take 3%
  of a polygon; the ink tells a cut through writing from one beside it.
- **lost**: ink inside a true entry that lies in no output region. An entry has lost
  content when at least ``LOST_SHARE`` (2%) of its ink, and at least ``LOST_MIN_PIXELS``
  pixels of the reduced mask, are in no region. Ink is the dark part of the red
  channel against its local paper (:func:`ink_mask`): red rules and headings drop out,
  any other stroke and rule counts.
- **orientation**: the quarter turns the product applied against ``upright_turns``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from station.processing.imaging import geometry as geo
from station.processing.imaging.cutcheck import share_inside

log = logging.getLogger(__name__)

EXACT_OWN = 0.95
EXACT_OTHER = 0.03
LOST_SHARE = 0.02
LOST_MIN_PIXELS = 10
INK_LEVEL = 190  # flattened red level (paper = 255) under which a pixel is ink
Polygon = NDArray[np.float64]
Mask = NDArray[np.bool_]


@dataclass(frozen=True)
class TruthEntry:
    """One true entry: its polygon and its text lines' polygons (may be empty)."""

    polygon: Polygon
    lines: list[Polygon]


@dataclass(frozen=True)
class Truth:
    """A real page's ground truth in its stored pixel grid."""

    entries: list[TruthEntry]
    upright_turns: int
    size: tuple[int, int]  # width, height as stored

    @classmethod
    def from_json(cls, data: dict[str, Any], size: tuple[int, int]) -> Truth:
        """From the ``<image>.json`` format of ``shared/real-pages/SOURCES.md``."""
        entries = [
            TruthEntry(
                np.asarray(e["polygon"], np.float64),
                [np.asarray(p, np.float64) for p in e.get("line_polygons", [])],
            )
            for e in data["entries"]
        ]
        return cls(entries, int(data.get("upright_turns", 0)), size)


@dataclass(frozen=True)
class ImageScore:
    """The figures of one image (see the module's rules)."""

    entries: int
    found: int
    exact: int
    exact_writing: int
    leaked: int
    lines: int
    split_lines: int
    split_ink: int  # of the lines, those whose ink is cut in two
    lost_entries: int
    ink: int  # ink pixels inside true entries (reduced mask)
    ink_lost: int  # of which in no output region
    orientation_right: bool | None  # None: the product said nothing (image failed)


def ink_mask(channel: NDArray[np.uint8], factor: int) -> Mask:
    """Ink of ``channel``, darker than its local paper, reduced ``factor`` times.

    Found at full resolution (a reduced copy would average thin strokes into the
    paper), then a reduced cell is ink when any of its pixels is. The paper level is
    the channel with strokes closed by a grey dilation, then blurred, so shading,
    microfilm density and the fold do not count as ink.
    """
    stroke = max(3, round(min(channel.shape) * 0.005)) | 1
    paper = cv2.dilate(channel, np.ones((stroke, stroke), np.uint8))
    paper = cv2.blur(paper, (4 * stroke + 1, 4 * stroke + 1))
    ink = np.asarray(cv2.divide(channel, paper, scale=255), dtype=np.uint8) < INK_LEVEL
    height, width = (ink.shape[0] // factor) * factor, (ink.shape[1] // factor) * factor
    cells = ink[:height, :width].reshape(height // factor, factor, width // factor, factor)
    return np.asarray(cells.any(axis=(1, 3)), dtype=np.bool_)


def fill(polygons: Sequence[Polygon], shape: tuple[int, int], scale: float) -> Mask:
    """The union of ``polygons`` (stored-grid pixels) rasterised at ``scale``."""
    canvas = np.zeros(shape, np.uint8)
    for polygon in polygons:
        points = np.round(np.asarray(polygon, np.float64) * scale * 16).astype(np.int32)
        cv2.fillPoly(canvas, [points.reshape(-1, 1, 2)], 1, lineType=cv2.LINE_8, shift=4)
    return canvas.astype(np.bool_)


def score_image(
    truth: Truth,
    regions: Sequence[Polygon],
    ink: Mask,
    factor: int,
    turns: int | None,
) -> ImageScore:
    """Score the output ``regions`` (convex quads, stored grid) of one image.

    ``ink`` is :func:`ink_mask` of the stored image reduced ``factor`` times; ``turns`` the
    clockwise quarter turns the product applied (None if it processed nothing).
    """
    polygons = [e.polygon for e in truth.entries]
    shares = np.array([[share_inside(p, r, truth.size) for p in polygons] for r in regions])
    shares = shares.reshape(len(regions), len(polygons))
    writing = np.array([[writing_share(e, r, truth.size) for e in truth.entries] for r in regions])
    writing = writing.reshape(len(regions), len(polygons))
    lines = [line for e in truth.entries for line in e.lines]
    scale = 1 / factor
    covered = fill(regions, ink.shape, scale)
    held = [ink & fill([region], ink.shape, scale) for region in regions]
    lost_entries, ink_total, ink_lost = 0, 0, 0
    for polygon in polygons:
        own = ink & fill([polygon], ink.shape, scale)
        total, lost = int(own.sum()), int((own & ~covered).sum())
        ink_total, ink_lost = ink_total + total, ink_lost + lost
        if total and lost >= LOST_MIN_PIXELS and lost >= LOST_SHARE * total:
            lost_entries += 1
    right = None if turns is None else turns % 4 == truth.upright_turns % 4
    return ImageScore(
        entries=len(polygons),
        found=len(regions),
        exact=exact_count(shares),
        exact_writing=exact_count(writing),
        leaked=leaked_count(shares),
        lines=len(lines),
        split_lines=sum(line_split(line, regions, truth.size) for line in lines),
        split_ink=sum(ink_split(ink & fill([line], ink.shape, scale), held) for line in lines),
        lost_entries=lost_entries,
        ink=ink_total,
        ink_lost=ink_lost,
        orientation_right=right,
    )


def writing_share(entry: TruthEntry, region: Polygon, size: tuple[int, int]) -> float:
    """Share of ``entry``'s writing (its text-line polygons' area; its polygon when it
    has none) inside ``region``."""
    parts = entry.lines or [entry.polygon]
    areas = [geo.polygon_area(part) for part in parts]
    total = sum(areas)
    if total <= 0:
        return share_inside(entry.polygon, region, size)
    held = sum(a * share_inside(p, region, size) for p, a in zip(parts, areas, strict=True))
    return held / total


def exact_count(shares: NDArray[np.float64]) -> int:
    """True entries cut exactly; ``shares[r, e]``: share of entry e inside region r."""
    exact = 0
    for entry in range(shares.shape[1]):
        others = np.delete(shares, entry, axis=1)
        for region in range(shares.shape[0]):
            clean = others.shape[1] == 0 or others[region].max() < EXACT_OTHER
            if shares[region, entry] >= EXACT_OWN and clean:
                exact += 1
                break
    return exact


def leaked_count(shares: NDArray[np.float64]) -> int:
    """True entries with a part inside a region that belongs to another entry."""
    if shares.size == 0:
        return 0
    owner = shares.argmax(axis=1)
    leaked = 0
    for entry in range(shares.shape[1]):
        foreign = [r for r in range(shares.shape[0]) if owner[r] != entry]
        if any(shares[r, entry] >= EXACT_OTHER for r in foreign):
            leaked += 1
    return leaked


def line_split(line: Polygon, regions: Sequence[Polygon], size: tuple[int, int]) -> bool:
    """Whether a true text line is cut between two output regions."""
    held = sorted((share_inside(line, r, size) for r in regions), reverse=True)
    return len(held) >= 2 and held[0] < EXACT_OWN and held[1] >= EXACT_OTHER


def ink_split(line_ink: Mask, held: Sequence[Mask]) -> bool:
    """Whether a true text line's ink (``line_ink``) is cut between two regions
    (``held``: the ink inside each)."""
    total = int(line_ink.sum())
    if not total:
        return False
    shares = sorted((int((line_ink & region).sum()) / total for region in held), reverse=True)
    return len(shares) >= 2 and shares[0] < EXACT_OWN and shares[1] >= EXACT_OTHER
