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
    follow; None on a flat page.
    """

    box: Box
    page_side: int
    confidence: float
    warp: tuple[float, ...] | None = None
    flags: tuple[str, ...] = ()
    bend: tuple[float, ...] | None = None


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


def crop_region(
    rgb: NDArray[np.uint8],
    box: Box,
    angle: float = 0.0,
    warp: Sequence[float] | None = None,
    bend: Sequence[float] | None = None,
) -> NDArray[np.uint8]:
    """Cut a region out of the capture.

    With ``warp`` (capture -> page frame homography, 9 floats) the box is in the page
    frame; only the box's pixels are computed. With ``bend`` too (a dewarped page's
    grid across the box), the pixels are read along the bent lines. Without a warp,
    the legacy form: deskew by ``angle`` about the capture's centre, then crop ``box``.
    """
    left, top, right, bottom = box
    size = (max(1, right - left), max(1, bottom - top))
    if warp is not None and bend is not None:
        return dw.crop_grid(rgb, size, bend)
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


def region_polygon(
    box: Box, warp: Sequence[float] | None, bend: Sequence[float] | None = None
) -> NDArray[np.float64]:
    """The region's outline (TL, TR, BR, BL) in capture pixels; with a dewarped page's
    ``bend`` grid, the points along its bent edges, clockwise from the top left.

    Without ``bend`` on a dewarped page, the outline is in the straight capture
    (where the page's other outlines are compared)."""
    if warp is not None and bend is not None:
        return dw.grid_outline(bend)
    left, top, right, bottom = box
    corners = np.array([[left, top], [right, top], [right, bottom], [left, bottom]], np.float64)
    if warp is None:
        return corners
    return geo.apply(geo.invert(tuple(warp)), corners)
