"""Table frames and ruled lines on a normalised page.

Every ledger page prints its entries inside a ruled table frame; stacked ledgers also
rule a line under each entry. Both are found on the small normalised ink mask as long
straight runs (a morphological opening keeps only runs longer than the kernel, which
drops text, dotted leaders and seals). Each side of a frame is then fitted as a
straight line to its own pixels and the four sides intersected, so a frame whose corner
falls outside the image, or that is still slightly in perspective, gets exact corners.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from station.processing.imaging import geometry as geo
from station.processing.imaging.normalise import Gray, u8

log = logging.getLogger(__name__)

MIN_SIDE = 0.4  # a frame side spans at least this share of the page's height or width


@dataclass(frozen=True)
class Frame:
    """A table frame: corners (TL, TR, BR, BL) in the small normalised frame."""

    corners: NDArray[np.float64]
    residual: float  # RMS distance (small pixels) of the sides' pixels to their lines


def find_gutter(ink: Gray) -> int:
    """Column of a spread's fold: the emptiest column band near the middle."""
    width = ink.shape[1]
    lo, hi = int(width * 0.35), int(width * 0.65)
    profile = (ink[:, lo:hi] > 0).sum(axis=0).astype(np.float32)
    smooth = np.asarray(cv2.blur(profile.reshape(1, -1), (max(3, width // 60), 1))).ravel()
    # Among equally empty columns, the one nearest the middle.
    centre_cost = np.abs(np.arange(lo, hi) - width / 2) / width
    return lo + int(np.argmin(smooth + centre_cost))


def gutter_evidence(ink: Gray, gutter: int) -> float:
    """How much emptier the fold at ``gutter`` is than the columns around the middle:
    1 - (ink near the fold) / (median ink of the middle columns); near 0 when the fold
    is no emptier than the writing (a table running across it, an uncut page)."""
    width = ink.shape[1]
    lo, hi = int(width * 0.35), int(width * 0.65)
    columns = (ink[:, lo:hi] > 0).sum(axis=0).astype(np.float64)
    typical = float(np.median(columns))
    if typical <= 0:
        return 1.0
    half = max(1, width // 120)
    near = float((ink[:, max(0, gutter - half) : gutter + half + 1] > 0).sum(axis=0).mean())
    return 1.0 - min(1.0, near / typical)


#: A spread's fold shades the paper beside it: the paper's brightness, averaged over
#: this many inches of columns, dips at least :data:`FOLD_DEPTH` below its median
#: across the middle of the spread. Measured (``docs/developers.md``): 0.07-0.14 on
#: the real spreads, 0.27-0.51 on the simulator's; a single page: 0.002-0.08.
FOLD_WIDTH_IN = 0.4
FOLD_DEPTH = 0.05
#: The crease is the darkest column within this many inches of the shaded band.
CREASE_REACH_IN = 0.3


def find_fold(shade: NDArray[np.float32], dpi: float) -> int | None:
    """Column of a spread's fold from the paper's shading (``Normalised.shade``): the
    darkest column (the crease) in the band the fold shades; None when no band near
    the middle is shaded enough to be a fold (a flat, evenly lit spread)."""
    width = len(shade)
    lo, hi = int(width * 0.35), int(width * 0.65)
    if hi - lo < 3:
        return None
    values = shade.astype(np.float64)
    window = np.ones(max(3, round(dpi * FOLD_WIDTH_IN)))
    broad = np.convolve(values, window, mode="same") / np.convolve(np.ones(width), window, "same")
    valley = lo + int(np.argmin(broad[lo:hi]))
    middle = float(np.median(broad[lo:hi]))
    if middle <= 0 or (middle - broad[valley]) / middle < FOLD_DEPTH:
        return None
    reach = max(2, round(dpi * CREASE_REACH_IN))
    narrow = np.convolve(values, np.ones(5) / 5, mode="same")
    a, b = max(lo, valley - reach), min(hi, valley + reach + 1)
    return a + int(np.argmin(narrow[a:b]))


#: :func:`gutter_evidence` under this: a gutter at the emptiest column is not sure.
GUTTER_EVIDENCE = 0.5


def page_columns(
    ink: Gray, pages: int, shade: NDArray[np.float32] | None = None, dpi: float = 100.0
) -> tuple[list[tuple[int, int]], int | None, bool]:
    """Column ranges of each page of the normalised image, the gutter if any, and
    whether the gutter is sure: at the fold when the paper's ``shade`` shows one (sure),
    else the emptiest column band near the middle (:func:`find_gutter`), sure only when
    it is clearly emptier than the writing around it (:func:`gutter_evidence`)."""
    width = ink.shape[1]
    if pages == 1:
        return [(0, width)], None, True
    fold = find_fold(shade, dpi) if shade is not None else None
    if fold is not None:
        return [(0, fold), (fold, width)], fold, True
    log.info("no fold shading found: the gutter is the emptiest column near the middle")
    gutter = find_gutter(ink)
    sure = gutter_evidence(ink, gutter) >= GUTTER_EVIDENCE
    return [(0, gutter), (gutter, width)], gutter, sure


def _components(mask: Gray, vertical: bool, min_length: float) -> list[NDArray[np.intp]]:
    """Pixel coordinates (x, y) of each long line in ``mask``."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    stats = np.asarray(stats)
    extent = stats[:, cv2.CC_STAT_HEIGHT if vertical else cv2.CC_STAT_WIDTH]
    keep = [i for i in range(1, count) if extent[i] >= min_length]
    labels = np.asarray(labels)
    result = []
    for index in keep:
        # Searched within the line's bounding box only (the same pixels in the same
        # order): over the whole page, a page with many ruled lines cost ~50 ms.
        left, top, width, height = stats[index, :4]
        ys, xs = np.nonzero(labels[top : top + height, left : left + width] == index)
        result.append(np.stack([xs + left, ys + top], axis=1))
    return result


def line_masks(ink: Gray, dpi: float) -> tuple[Gray, Gray]:
    """Horizontal and vertical ruled-line masks (runs over ~1.5 inch)."""
    run = max(15, round(dpi * 1.5))
    horizontal = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, run), np.uint8))
    vertical = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((run, 1), np.uint8))
    return u8(horizontal), u8(vertical)


def _fit(points: NDArray[np.intp]) -> tuple[tuple[geo.Point, geo.Point], float]:
    """Least-squares line through ``points`` and the RMS distance to it."""
    pts = points.astype(np.float32)
    vx, vy, x0, y0 = (
        float(v) for v in np.asarray(cv2.fitLine(pts, cv2.DIST_L2, 0, 0.01, 0.01)).ravel()
    )
    distance = np.abs((pts[:, 0] - x0) * vy - (pts[:, 1] - y0) * vx)
    return ((x0, y0), (vx, vy)), float(np.sqrt(np.mean(distance**2)))


def find_frame(horizontal: Gray, vertical: Gray, x0: int, x1: int) -> Frame | None:
    """The table frame of the page between columns ``x0`` and ``x1``, if one is ruled."""
    height = horizontal.shape[0]
    verticals = _components(np.ascontiguousarray(vertical[:, x0:x1]), True, MIN_SIDE * height)
    if len(verticals) < 2:
        return None
    verticals.sort(key=lambda p: float(np.median(p[:, 0])))
    left, right = verticals[0], verticals[-1]
    span = float(np.median(right[:, 0]) - np.median(left[:, 0]))
    if span < MIN_SIDE * (x1 - x0):
        return None
    lo, hi = int(np.median(left[:, 0])) - 3, int(np.median(right[:, 0])) + 4
    band = np.ascontiguousarray(horizontal[:, x0 + max(0, lo) : x0 + hi])
    horizontals = _components(band, False, 0.3 * span)
    # The frame's top and bottom sides are where its upright sides end; a side broken
    # by light or wear is still picked over a full-width ruled line inside the table.
    ends = np.concatenate([left[:, 1], right[:, 1]])
    top = _nearest(horizontals, float(ends.min()), 0.03 * height)
    bottom = _nearest(horizontals, float(ends.max()), 0.03 * height)
    if top is None or bottom is None or top is bottom:
        return None
    shift = np.array([x0, 0])
    sides = [left + shift, right + shift, top, bottom]
    sides[2:] = [h + np.array([x0 + max(0, lo), 0]) for h in sides[2:]]
    fits = [_fit(side) for side in sides]
    (l_line, _), (r_line, _), (t_line, _), (b_line, _) = fits
    corners = np.array(
        [
            geo.intersect(t_line, l_line),
            geo.intersect(t_line, r_line),
            geo.intersect(b_line, r_line),
            geo.intersect(b_line, l_line),
        ]
    )
    if not np.all(np.isfinite(corners)):
        return None
    return Frame(corners, max(residual for _, residual in fits))


def _nearest(
    lines: list[NDArray[np.intp]], row: float, tolerance: float
) -> NDArray[np.intp] | None:
    """The line whose median row is nearest ``row``, if within ``tolerance``."""
    if not lines:
        return None
    best = min(lines, key=lambda p: abs(float(np.median(p[:, 1])) - row))
    return best if abs(float(np.median(best[:, 1])) - row) <= tolerance else None


def ruled_rows(ink: Gray, left: float, right: float, dpi: float) -> list[float]:
    """Rows (subpixel) of horizontal ruled lines spanning the columns ``left``..``right``."""
    x0, x1 = round(left) + 2, round(right) - 2
    if x1 - x0 < 10:
        return []
    # A thin rule resampled from a photo wanders by a pixel: thicken it vertically first.
    part = cv2.dilate(np.ascontiguousarray(ink[:, x0:x1]), np.ones((3, 1), np.uint8))
    run = max(15, round((x1 - x0) * 0.05))
    lines = cv2.morphologyEx(part, cv2.MORPH_OPEN, np.ones((1, run), np.uint8))
    coverage = (np.asarray(lines) > 0).mean(axis=1)
    rows = np.flatnonzero(coverage > 0.6)
    groups: list[list[int]] = []
    for row in rows:
        if groups and row - groups[-1][-1] <= max(2, round(dpi * 0.02)):
            groups[-1].append(int(row))
        else:
            groups.append([int(row)])
    centres = []
    for group in groups:
        ys = np.arange(group[0] - 1, group[-1] + 2)
        ys = ys[(ys >= 0) & (ys < len(coverage))]
        weights = coverage[ys]
        centres.append(float((ys * weights).sum() / weights.sum()))
    return centres
