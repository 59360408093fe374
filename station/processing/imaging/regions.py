"""Proposed entry regions: a box in a page frame of its own and the warp to it.

What segmentation proposes and the one way a region is cut out of its capture; kept
apart from :mod:`station.processing.imaging.segment` so that the ways of finding
entries (its own, and a book's template: :mod:`station.processing.imaging.templated`)
share them without importing each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from station.processing.imaging import dewarp as dw
from station.processing.imaging import entries as keyed
from station.processing.imaging import geometry as geo
from station.processing.imaging import normalise as nm

Box = tuple[int, int, int, int]
#: An entry begun on the previous page: its number is that entry's, which a person
#: joins it to (it has no number of its own in the key column).
CONTINUED_FLAG = "continued_from_previous"


@dataclass(frozen=True)
class ProposedRegion:
    """A candidate entry: box in its page frame, page side, confidence, and the warp.

    ``warp`` is the 3x3 homography (row-major, 9 floats) from capture pixels to the
    page frame the box is in; None means the box is in capture pixels. ``flags`` are
    the entry's own (the page's are in the segmentation's). ``bend``: on a dewarped
    page, the grid of capture points spanning the box (:func:`dewarp.region_grid`;
    ``warp`` then starts from the straight capture), which the cut and the outline
    follow; None on a flat page. ``shape``: the outline in the box's frame (x, y
    pairs) when its edges step round the writing or bend at a spread's fold; the cut
    keeps only the pixels inside it (on a dewarped page, read through ``bend``).
    """

    box: Box
    page_side: int
    confidence: float
    warp: tuple[float, ...] | None = None
    flags: tuple[str, ...] = ()
    bend: tuple[float, ...] | None = None
    shape: tuple[float, ...] | None = None


def keyed_regions(
    norm: nm.Normalised,
    found: keyed.KeyedEntries,
    columns: tuple[int, int],
    dpi: int,
    side: int,
    pad: float | None = None,
) -> list[ProposedRegion]:
    """Regions of the bands found from start marks, each edge along the writing;
    ``pad``: paper kept beside the table (normalised pixels; 0.15 inch by default)."""
    if pad is None:
        pad = norm.work_scale * dpi * 0.15
    left = max(float(columns[0]), found.left - pad)
    right = min(float(columns[1]), found.right + pad)
    regions = []
    for band in found.bands:
        if band.bottom - band.top < 1:
            continue
        top = _edge(found, band.top, band.top_path, (left, right))
        bottom = _edge(found, band.bottom, band.bottom_path, (left, right))
        if found.turn:  # edges bent at a spread's fold: the box runs along their chords
            quad = np.vstack([_beyond(top, True), _beyond(bottom, False)[::-1]])
        else:
            rise = min((offset for _, offset in band.top_path or ()), default=0.0)
            fall = max((offset for _, offset in band.bottom_path or ()), default=0.0)
            rise, fall = min(0.0, rise), max(0.0, fall)
            quad = np.array(
                [
                    [left, found.edge(band.top + rise, left)],
                    [right, found.edge(band.top + rise, right)],
                    [right, found.edge(band.bottom + fall, right)],
                    [left, found.edge(band.bottom + fall, left)],
                ],
                np.float64,
            )
        corners = norm.to_capture(quad)
        width, height = geo.quad_size(corners)
        warp = geo.quad_to_rect(corners, (0, 0, width, height))
        box = (0, 0, round(width), round(height))
        flat = tuple(float(v) for v in warp.ravel())
        flags = (CONTINUED_FLAG,) if band.continued else ()
        shape = None
        if len(top) > 2 or len(bottom) > 2:
            outline = geo.apply(warp, norm.to_capture(np.vstack([top, bottom[::-1]])))
            shape = tuple(round(float(v), 1) for v in outline.ravel())
        regions.append(ProposedRegion(box, side, found.confidence, flat, flags, shape=shape))
    return regions


def _beyond(edge: NDArray[np.float64], up: bool) -> NDArray[np.float64]:
    """The two ends of the chord of ``edge`` (points left to right), moved ``up`` (else
    down) as far as its farthest point beyond the chord on that side."""
    (x0, y0), (x1, y1) = edge[0], edge[-1]
    chord = y0 + (edge[:, 0] - x0) * (y1 - y0) / max(x1 - x0, 1e-9)
    off = edge[:, 1] - chord
    shift = min(0.0, float(off.min())) if up else max(0.0, float(off.max()))
    return np.array([[x0, y0 + shift], [x1, y1 + shift]])


def _edge(
    found: keyed.KeyedEntries,
    row: float,
    path: Sequence[tuple[float, float]] | None,
    span: tuple[float, float],
) -> NDArray[np.float64]:
    """A band edge's points from the left of ``span`` to its right, normalised frame:
    the straight edge at ``row`` (bent at a spread's fold, :attr:`KeyedEntries.turn`),
    stepped along ``path`` where it has one (held at its end offsets beyond it)."""
    left, right = span
    kink = [found.fold] if found.turn and left < found.fold < right else []
    if not path:
        xs = np.array([left, *kink, right], np.float64)
        return np.stack([xs, found.edge(row, xs)], axis=1)
    nodes = np.array([p for p in path if left < p[0] < right], np.float64).reshape(-1, 2)
    first, last = path[0][1], path[-1][1]
    xs = np.concatenate([[left], nodes[:, 0], [right]])
    offsets = np.concatenate([[first], nodes[:, 1], [last]])
    if kink and not np.any(xs == found.fold):  # the fold's own point, on the path
        at = int(np.searchsorted(xs, found.fold))
        offsets = np.insert(offsets, at, np.interp(found.fold, xs, offsets))
        xs = np.insert(xs, at, found.fold)
    return np.stack([xs, found.edge(row, xs) + offsets], axis=1)


def crop_region(
    rgb: NDArray[np.uint8],
    box: Box,
    angle: float = 0.0,
    warp: Sequence[float] | None = None,
    bend: Sequence[float] | None = None,
    shape: Sequence[float] | None = None,
) -> NDArray[np.uint8]:
    """Cut a region out of the capture.

    With ``warp`` (capture -> page frame homography, 9 floats) the box is in the page
    frame; only the box's pixels are computed, and with ``shape`` (the outline in that
    frame) only those inside it are kept: the rest are painted paper. With ``bend``
    too (a dewarped page's grid across the box), the pixels are read along the bent
    lines. Without a warp, the legacy form: deskew by ``angle`` about the capture's
    centre, then crop ``box``.
    """
    left, top, right, bottom = box
    size = (max(1, right - left), max(1, bottom - top))
    if warp is not None and bend is not None:
        window = dw.crop_grid(rgb, size, bend)
        if shape is not None:
            _paper_outside(window, np.asarray(shape, np.float64).reshape(-1, 2) - [left, top])
        return window
    if warp is not None:
        matrix = geo.translate(-left, -top) @ np.asarray(warp, dtype=np.float64).reshape(3, 3)
        window = nm.u8(
            cv2.warpPerspective(
                rgb, matrix, size, flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255)
            )
        )
        if shape is not None:
            outline = np.asarray(shape, np.float64).reshape(-1, 2) - np.array([left, top])
            _paper_outside(window, outline)
        return window
    if abs(angle) < 0.05:
        return np.ascontiguousarray(rgb[top:bottom, left:right])
    height, width = rgb.shape[:2]
    matrix = geo.translate(-left, -top) @ geo.rotation(angle, (width / 2, height / 2))
    window = cv2.warpAffine(
        rgb, matrix[:2], size, flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255)
    )
    return nm.u8(window)


def _paper_outside(window: NDArray[np.uint8], outline: NDArray[np.float64]) -> None:
    """Paint ``window`` (in place) outside ``outline`` in its paper's colour: those
    pixels are the neighbouring entry's, in its file."""
    inside = np.zeros(window.shape[:2], np.uint8)
    points = np.round(outline * 16).astype(np.int32).reshape(-1, 1, 2)
    cv2.fillPoly(inside, [points], 1, lineType=cv2.LINE_8, shift=4)
    paper = np.median(window[::4, ::4].reshape(-1, window.shape[2]), axis=0)
    window[inside == 0] = np.round(paper).astype(np.uint8)


def region_polygon(
    box: Box,
    warp: Sequence[float] | None,
    bend: Sequence[float] | None = None,
    shape: Sequence[float] | None = None,
) -> NDArray[np.float64]:
    """The region's outline (TL, TR, BR, BL) in capture pixels; with a dewarped page's
    ``bend`` grid, the points along its bent edges, clockwise from the top left; with a
    ``shape`` (edges stepped round the writing), its points, read through the grid on a
    dewarped page (:func:`dewarp.grid_polygon`).

    Without ``bend`` on a dewarped page, the outline is in the straight capture
    (where the page's other outlines are compared)."""
    if warp is not None and bend is not None:
        if shape is not None:
            return dw.grid_polygon(bend, box, np.asarray(shape, np.float64).reshape(-1, 2))
        return dw.grid_outline(bend)
    if warp is not None and shape is not None:
        return geo.apply(geo.invert(tuple(warp)), np.asarray(shape, np.float64).reshape(-1, 2))
    left, top, right, bottom = box
    corners = np.array([[left, top], [right, top], [right, bottom], [left, bottom]], np.float64)
    if warp is None:
        return corners
    return geo.apply(geo.invert(tuple(warp)), corners)
