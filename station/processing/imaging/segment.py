"""Entry segmentation: propose one region per ledger entry on a captured image.

Pure functions of an image and a layout profile. The page is normalised on a small
copy (:mod:`station.processing.imaging.normalise`), each page's table frame is found and fitted
(:mod:`station.processing.imaging.frames`), and a homography per page takes the capture's pixels
to a *page frame* in which that table is an upright rectangle at the capture's own
resolution, offset by a margin. Entries are the bands between the frame's top, the
ruled lines across it and its bottom (a short first band is the column-heading row of
a stacked table, not an entry). A region is a box in its page frame plus that
homography, so cutting it out is one perspective warp of just the box's pixels
(:func:`crop_region`), straight from the full-resolution capture.

Edges: inner cuts lie on the centre of the ruled line between two entries, so nothing
of the neighbour comes along; the frame's own edges get a small outer margin, as
nothing but paper lies beyond them.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray

from station.core.layouts import LayoutProfile
from station.processing.imaging import boundaries
from station.processing.imaging import entries as keyed
from station.processing.imaging import geometry as geo
from station.processing.imaging import normalise as nm
from station.processing.imaging import outside as out
from station.processing.imaging.frames import (
    Frame,
    find_fold,
    find_frame,
    gutter_evidence,
    line_masks,
    page_columns,
    ruled_rows,
)

log = logging.getLogger(__name__)

OUTER_MARGIN_MM = 1.5  # paper kept beyond the table frame
HEADING_SHARE = 0.08  # a first band shorter than this share of the frame: column headings
MIN_CONFIDENCE = 0.6
#: The paper's outline cut ink and was widened to hold it (see ``normalise.check_outline``).
OUTLINE_FLAG = "page_outline_uncertain"
#: No rules between the entries: they were cut at their start marks, which an operator
#: confirms (a page whose cuts are wrong must not publish on its own).
NO_FRAME_FLAG = "no_frame"
#: An entry begun on the previous page: its number is that entry's, which a person
#: joins it to (it has no number of its own in the key column).
CONTINUED_FLAG = "continued_from_previous"
#: Run lengths and the sheet's shape disagreed on which way the text runs (the
#: letters were asked when the detector is installed): a person checks the page.
ORIENTATION_FLAG = "orientation_uncertain"
#: Writing below the last entry of a page, in no region: a last line or a note under the
#: table that no file would hold. The page goes to a person.
BELOW_FLAG = "ink_below_entries"
#: Share of the page's ink below its last entry from which :data:`BELOW_FLAG` is set
#: (specks and the page's own edge stay under it; a handwritten line is ~1%).
BELOW_SHARE = 0.005
#: Ink this close under the last entry's lower edge (inches) is its own descenders.
BELOW_MARGIN_IN = 0.08
#: A spread's fold found where the ink is no emptier than around it (a table running
#: across the fold, an uncut page): which entry lies on which page is in doubt.
GUTTER_FLAG = "gutter_uncertain"
#: :func:`frames.gutter_evidence` under this: :data:`GUTTER_FLAG`.
GUTTER_EVIDENCE = 0.5
Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class ProposedRegion:
    """A candidate entry: box in its page frame, page side, confidence, and the warp.

    ``warp`` is the 3x3 homography (row-major, 9 floats) from capture pixels to the
    page frame the box is in; None means the box is in capture pixels. ``flags`` are
    the entry's own (the page's are in :class:`Segmentation`).
    """

    box: Box
    page_side: int
    confidence: float
    warp: tuple[float, ...] | None = None
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Segmentation:
    """What segmentation found on one image."""

    regions: list[ProposedRegion]
    angle: float
    flags: list[str] = field(default_factory=list)
    gutter_x: int | None = None
    turns: int = 0  # clockwise quarter turns that made the page upright
    camera: bool = False
    #: The page's ink outside every region, by reason (:mod:`.outside`).
    outside: out.Accounting = field(default_factory=lambda: out.Accounting([], {}, 1.0))
    #: The figures behind some flags (flag -> field -> value), for their words:
    #: ``core.flagtext``.
    details: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def confidence(self) -> float:
        return min((r.confidence for r in self.regions), default=0.0)


def segment(rgb: NDArray[np.uint8], dpi: int, profile: LayoutProfile) -> Segmentation:
    """Propose entry regions on ``rgb`` (H x W x 3) according to ``profile``."""
    norm = nm.normalise(rgb, dpi, landscape=profile.pages_per_image == 2)
    work_dpi = dpi * norm.work_scale
    ink = _inner(norm.ink, 0)
    frames, gutter = _frames(ink, profile.pages_per_image, work_dpi, norm.shade)
    if not norm.turned_by_text and _upside_down(norm, frames):
        norm = nm.turn_half(norm)
        ink = _inner(norm.ink, 0)
        frames, gutter = _frames(ink, profile.pages_per_image, work_dpi, norm.shade)
    fold = None if gutter is None else (gutter, max(1, round(work_dpi * FOLD_HALF_IN)))
    page = _Page(norm, _blank_fold(ink, fold, 0), rgb, fold)
    regions: list[ProposedRegion] = []
    flags: set[str] = set()
    counts = []
    for side, (frame, columns) in enumerate(frames):
        found, unruled = _page_regions(page, frame, columns, dpi, side, profile)
        counts.append(len(found))
        if not profile.entries_min <= len(found) <= profile.entries_max:
            flags.add("count_mismatch")
        if unruled:
            flags.add(NO_FRAME_FLAG)
        if _ink_below(norm, ink, found, work_dpi) > BELOW_SHARE:
            flags.add(BELOW_FLAG)
        regions += found
    if not regions or any(r.confidence < MIN_CONFIDENCE for r in regions):
        flags.add("low_confidence")
    if norm.outline_uncertain:
        flags.add(OUTLINE_FLAG)
    if norm.orientation_uncertain:
        flags.add(ORIENTATION_FLAG)
    polygons = [(r.page_side, region_polygon(r.box, r.warp)) for r in regions]
    accounting = out.account_page(norm, polygons, work_dpi)
    if accounting.flagged_share > out.FLAG_SHARE:
        flags.add(out.OUTSIDE_FLAG)
    gutter_x = None
    # A gutter at the fold's shading is sure; one at the emptiest column only when
    # that column is clearly emptier than the writing around it.
    by_fold = norm.shade is not None and find_fold(norm.shade, work_dpi) == gutter
    if gutter is not None and not by_fold and gutter_evidence(ink, gutter) < GUTTER_EVIDENCE:
        flags.add(GUTTER_FLAG)
    if gutter is not None:
        middle = norm.flat.shape[0] / 2
        gutter_x = round(float(norm.to_capture(np.array([[gutter, middle]]))[0, 0]))
    return Segmentation(
        regions, norm.angle, sorted(flags), gutter_x, norm.turns, norm.camera, accounting,
        out.details(accounting, (profile.entries_min, profile.entries_max), counts, flags),
    )  # fmt: skip


def _ink_below(
    norm: nm.Normalised, ink: nm.Gray, regions: Sequence[ProposedRegion], work_dpi: float
) -> float:
    """Share of the page's ink (``ink``, border blanked) that lies below all of one
    page's ``regions``, across their width, in the normalised frame."""
    total = cv2.countNonZero(ink)
    if not regions or not total:
        return 0.0
    outlines = np.vstack([geo.apply(norm.matrix, region_polygon(r.box, r.warp)) for r in regions])
    height, width = ink.shape
    left = max(0, int(outlines[:, 0].min()))
    right = min(width, int(np.ceil(outlines[:, 0].max())))
    below = int(np.ceil(outlines[:, 1].max() + BELOW_MARGIN_IN * work_dpi))
    if below >= height or right <= left:
        return 0.0
    return cv2.countNonZero(ink[below:, left:right]) / total


def _frames(
    ink: nm.Gray, pages: int, work_dpi: float, shade: NDArray[np.float32] | None = None
) -> tuple[list[tuple[Frame | None, tuple[int, int]]], int | None]:
    """Each page's table frame (None when none is ruled) and its columns, on the ink
    without its border (:func:`_inner`); ``shade`` shows a spread's fold."""
    columns, gutter = page_columns(ink, pages, shade, work_dpi)
    horizontal, vertical = line_masks(ink, work_dpi)
    return [(find_frame(horizontal, vertical, x0, x1), (x0, x1)) for x0, x1 in columns], gutter


#: Half the width of the band down a spread's fold that is no page's writing (inches).
FOLD_HALF_IN = 0.08


class _Page:
    """The normalised image with its border blanked, read by every page of a spread:
    the ink at once, the darkest channel the first time entries are sought by marks."""

    def __init__(
        self,
        norm: nm.Normalised,
        ink: nm.Gray,
        rgb: NDArray[np.uint8],
        fold: tuple[int, int] | None = None,
    ) -> None:
        self.norm = norm
        self.ink = ink
        self.rgb = rgb  # the capture, where the boundaries found are refined
        self.fold = fold
        self._writing: nm.Gray | None = None

    @property
    def writing(self) -> nm.Gray:
        if self._writing is None:
            self._writing = _blank_fold(_inner(self.norm.writing, 255), self.fold, 255)
        return self._writing


def _blank_fold(image: nm.Gray, fold: tuple[int, int] | None, fill: int) -> nm.Gray:
    """``image`` with the columns of a spread's fold (column, half width) set to
    ``fill``: the crease's shadow is a dark line down the page, which the pages on
    either side would take for a rule or for their table's edge."""
    if fold is None:
        return image
    image = image.copy()
    column, half = fold
    image[:, max(0, column - half) : column + half + 1] = fill
    return image


def _inner(image: nm.Gray, fill: int) -> nm.Gray:
    """``image`` with a thin border set to ``fill``: paper edges and table slivers at
    the border of a warped photo look like long lines and like writing."""
    image = image.copy()
    border = max(3, round(min(image.shape) * 0.02))
    image[:border], image[-border:], image[:, :border], image[:, -border:] = fill, fill, fill, fill
    return image


def _upside_down(
    norm: nm.Normalised, frames: Sequence[tuple[Frame | None, tuple[int, int]]]
) -> bool:
    """Whether most frames have their page header below them."""
    votes = []
    for frame, _ in frames:
        if frame is not None:
            xs, ys = frame.corners[:, 0], frame.corners[:, 1]
            votes.append(
                nm.header_below(norm.ink, ys.min(), ys.max(), float(xs.min()), float(xs.max()))
            )
    return bool(votes) and sum(votes) * 2 > len(votes)


def _page_regions(
    page: _Page,
    frame: Frame | None,
    columns: tuple[int, int],
    dpi: int,
    side: int,
    profile: LayoutProfile,
) -> tuple[list[ProposedRegion], bool]:
    """The entries of one page, top to bottom, and whether they were cut without rules
    (:data:`NO_FRAME_FLAG`).

    Ruled bands when the page rules lines between entries; else, on a layout with
    several entries a page, the entries their start marks show
    (:mod:`station.processing.imaging.entries`); else the whole page for review.
    """
    norm = page.norm
    ruled = _ruled_regions(norm, frame, dpi, side) if frame is not None else []
    if len(ruled) >= 2:  # the page rules a line between entries
        return ruled, False
    if profile.entries_max > 1:
        found = keyed.find_entries(
            page.ink, page.writing, columns[0], columns[1], norm.work_scale * dpi
        )
        if found is not None:
            back = geo.invert(norm.matrix)
            found = boundaries.refine(page.rgb, back, found, norm.work_scale, dpi)
            return _keyed_regions(norm, found, columns, dpi, side), True
    if ruled:
        return ruled, False
    return _fallback(norm, columns, side), False


def _keyed_regions(
    norm: nm.Normalised, found: keyed.KeyedEntries, columns: tuple[int, int], dpi: int, side: int
) -> list[ProposedRegion]:
    """Regions of the bands found from start marks, each edge along the writing."""
    pad = norm.work_scale * dpi * 0.15  # paper kept beside the table, normalised pixels
    left = max(float(columns[0]), found.left - pad)
    right = min(float(columns[1]), found.right + pad)
    regions = []
    for band in found.bands:
        if band.bottom - band.top < 1:
            continue
        quad = np.array(
            [
                [left, found.edge(band.top, left)],
                [right, found.edge(band.top, right)],
                [right, found.edge(band.bottom, right)],
                [left, found.edge(band.bottom, left)],
            ],
            np.float64,
        )
        corners = norm.to_capture(quad)
        width, height = geo.quad_size(corners)
        warp = geo.quad_to_rect(corners, (0, 0, width, height))
        box = (0, 0, round(width), round(height))
        flat = tuple(float(v) for v in warp.ravel())
        flags = (CONTINUED_FLAG,) if band.continued else ()
        regions.append(ProposedRegion(box, side, found.confidence, flat, flags))
    return regions


def _ruled_regions(norm: nm.Normalised, frame: Frame, dpi: int, side: int) -> list[ProposedRegion]:
    """The bands between the table frame's ruled lines."""
    corners = norm.to_capture(frame.corners)
    width, height = geo.quad_size(corners)
    margin = round(dpi * 3 / 25.4)
    warp = geo.quad_to_rect(corners, (margin, margin, margin + width, margin + height))
    rows = _rules_in_frame(norm, warp, (width, height), margin, dpi)
    bounds = [0.0, *[r for r in rows if 0.02 * height < r < 0.98 * height], height]
    bands = list(itertools.pairwise(bounds))
    if len(bands) > 1 and bands[0][1] - bands[0][0] < HEADING_SHARE * height:
        bands = bands[1:]
    outer = dpi * OUTER_MARGIN_MM / 25.4
    confidence = 0.95 if frame.residual < 1.5 else max(0.3, 0.95 - 0.1 * frame.residual)
    flat = tuple(float(v) for v in warp.ravel())
    regions = []
    for top, bottom in bands:
        top_px = top - outer if top == 0.0 else top
        bottom_px = bottom + outer if bottom == height else bottom
        box = (
            round(margin - outer),
            round(margin + top_px),
            round(margin + width + outer),
            round(margin + bottom_px),
        )
        regions.append(ProposedRegion(box, side, confidence, flat))
    return regions


def _rules_in_frame(
    norm: nm.Normalised, warp: geo.Matrix, size: tuple[float, float], margin: int, dpi: int
) -> list[float]:
    """Ruled lines across the frame, as offsets below its top in page-frame pixels."""
    factor = norm.work_scale
    small = geo.scale(factor) @ warp @ geo.invert(norm.matrix)
    out = (round((size[0] + 2 * margin) * factor), round((size[1] + 2 * margin) * factor))
    warped = cv2.warpPerspective(norm.ink, small, out, flags=cv2.INTER_LINEAR)
    ink = nm.u8(cv2.threshold(warped, 95, 255, cv2.THRESH_BINARY)[1])
    left, right = margin * factor, (margin + size[0]) * factor
    rows = ruled_rows(
        ink, left + 0.03 * (right - left), right - 0.03 * (right - left), dpi * factor
    )
    return [row / factor - margin for row in rows]


def _fallback(norm: nm.Normalised, columns: tuple[int, int], side: int) -> list[ProposedRegion]:
    """No ruled frame: the page's ink extent, with a low confidence for review."""
    x0, x1 = columns
    ys, xs = np.nonzero(norm.ink[:, x0:x1])
    if xs.size == 0:
        return []
    quad = np.array(
        [
            [x0 + xs.min(), ys.min()],
            [x0 + xs.max() + 1, ys.min()],
            [x0 + xs.max() + 1, ys.max() + 1],
            [x0 + xs.min(), ys.max() + 1],
        ],
        dtype=np.float64,
    )
    corners = norm.to_capture(quad)
    width, height = geo.quad_size(corners)
    warp = geo.quad_to_rect(corners, (0, 0, width, height))
    box = (0, 0, round(width), round(height))
    return [ProposedRegion(box, side, 0.3, tuple(float(v) for v in warp.ravel()))]


def crop_region(
    rgb: NDArray[np.uint8],
    box: Box,
    angle: float = 0.0,
    warp: Sequence[float] | None = None,
) -> NDArray[np.uint8]:
    """Cut a region out of the capture.

    With ``warp`` (capture -> page frame homography, 9 floats) the box is in the page
    frame; only the box's pixels are computed. Without it, the legacy form: deskew by
    ``angle`` about the capture's centre, then crop ``box``.
    """
    left, top, right, bottom = box
    size = (max(1, right - left), max(1, bottom - top))
    if warp is not None:
        matrix = geo.translate(-left, -top) @ np.asarray(warp, dtype=np.float64).reshape(3, 3)
        window = cv2.warpPerspective(
            rgb, matrix, size, flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255)
        )
        return nm.u8(window)
    if abs(angle) < 0.05:
        return np.ascontiguousarray(rgb[top:bottom, left:right])
    height, width = rgb.shape[:2]
    matrix = geo.translate(-left, -top) @ geo.rotation(angle, (width / 2, height / 2))
    window = cv2.warpAffine(
        rgb, matrix[:2], size, flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255)
    )
    return nm.u8(window)


def region_polygon(box: Box, warp: Sequence[float] | None) -> NDArray[np.float64]:
    """The region's outline (TL, TR, BR, BL) in capture pixels."""
    left, top, right, bottom = box
    corners = np.array([[left, top], [right, top], [right, bottom], [left, bottom]], np.float64)
    if warp is None:
        return corners
    return geo.apply(geo.invert(tuple(warp)), corners)
