"""Whether a proposed region cuts an entry cleanly, judged against ground truth.

The rule (used by the tests and ``bench/imaging.py``), free of IoU: map the region's
box back to capture pixels (a quadrilateral, or the bowed outline of a dewarped page's
region); clip every truth polygon to the image
(what was never captured cannot be cut). The cut is **clean** when at least
``OWN_SHARE`` (98%) of the entry's own polygon lies inside the region and no other
entry has more than ``NEIGHBOUR_SHARE`` (1%) of its polygon inside it.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from station.processing.imaging import geometry as geo

log = logging.getLogger(__name__)

OWN_SHARE = 0.98
NEIGHBOUR_SHARE = 0.01
Polygon = Sequence[tuple[float, float]] | NDArray[np.float64]


@dataclass(frozen=True)
class CutCheck:
    """Shares of the entry's own polygon and of its worst neighbour inside a region."""

    own: float
    neighbour: float

    @property
    def clean(self) -> bool:
        return self.own >= OWN_SHARE and self.neighbour <= NEIGHBOUR_SHARE


def share_inside(polygon: Polygon, region: Polygon, size: tuple[int, int]) -> float:
    """Share of ``polygon``'s in-image area that lies inside ``region`` (convex, or the
    bowed outline of a dewarped region: clipped by its convex pieces)."""
    width, height = size
    image = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float64)
    visible = geo.clip_polygon(np.asarray(polygon, np.float64), image)
    area = geo.polygon_area(visible)
    if area <= 0:
        return 1.0
    low, high = visible.min(axis=0), visible.max(axis=0)
    inside = sum(
        geo.polygon_area(geo.clip_polygon(visible, piece))
        for piece, (piece_low, piece_high) in _pieces(np.asarray(region, np.float64).tobytes())
        if np.all(piece_low <= high) and np.all(low <= piece_high)
    )
    return inside / area


@functools.lru_cache(maxsize=64)
def _pieces(region: bytes) -> list[tuple[NDArray[np.float64], tuple[NDArray[np.float64], ...]]]:
    """The convex pieces of a region's outline (its float64 points' bytes) with their
    bounds, cached: every truth polygon of a page is clipped by the same regions, and
    only by the pieces it reaches."""
    pieces = geo.convex_pieces(np.frombuffer(region, np.float64).reshape(-1, 2))
    return [(piece, (piece.min(axis=0), piece.max(axis=0))) for piece in pieces]


def check_cut(
    region: Polygon, own: Polygon, others: Sequence[Polygon], size: tuple[int, int]
) -> CutCheck:
    """Judge one region (capture-pixel quadrilateral) against its entry and the others."""
    neighbour = max((share_inside(p, region, size) for p in others), default=0.0)
    return CutCheck(share_inside(own, region, size), neighbour)
