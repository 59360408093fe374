"""Plane geometry shared by normalisation, segmentation and the benchmark.

Homographies are 3x3 float64 arrays mapping points ``(x, y, 1)`` of one frame to
another; they compose by matrix product (``b @ a`` applies ``a`` first).
"""

from __future__ import annotations

import logging
import math

import cv2
import numpy as np
from numpy.typing import NDArray

log = logging.getLogger(__name__)

Matrix = NDArray[np.float64]
Point = tuple[float, float]


def scale(factor: float) -> Matrix:
    """Uniform scaling about the origin."""
    return np.diag([factor, factor, 1.0])


def translate(dx: float, dy: float) -> Matrix:
    """Translation by (dx, dy)."""
    return np.array([[1.0, 0.0, dx], [0.0, 1.0, dy], [0.0, 0.0, 1.0]])


def rotation(angle: float, centre: Point) -> Matrix:
    """Counter-clockwise rotation by ``angle`` degrees about ``centre`` (as warpAffine)."""
    matrix = np.asarray(cv2.getRotationMatrix2D(centre, angle, 1.0), dtype=np.float64)
    return np.vstack([matrix, [0.0, 0.0, 1.0]])


def quarter_turn(turns: int, width: float, height: float) -> Matrix:
    """Turn an image of ``width`` x ``height`` by ``turns`` x 90° clockwise, origin kept at 0."""
    turns %= 4
    if turns == 0:
        return np.eye(3)
    if turns == 1:  # clockwise: (x, y) -> (H - y, x)
        return np.array([[0.0, -1.0, height], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    if turns == 2:
        return np.array([[-1.0, 0.0, width], [0.0, -1.0, height], [0.0, 0.0, 1.0]])
    return np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, width], [0.0, 0.0, 1.0]])


#: EXIF orientation -> clockwise quarter turns a viewer applies to the stored pixels
#: (for the mirrored values 2, 4, 5 and 7: the turns after a left-right mirror).
EXIF_TURNS = {1: 0, 2: 0, 3: 2, 4: 2, 5: 3, 6: 1, 7: 1, 8: 3}


def exif_upright(orientation: int, width: float, height: float) -> Matrix:
    """Map pixels of a stored image (``width`` x ``height``) to where a viewer shows them
    after applying its EXIF ``orientation`` (what Pillow's ``exif_transpose`` does).

    Any value outside 1-8 is no orientation at all, as for Pillow.
    """
    if orientation in (2, 4):  # mirror left-right, or top-bottom
        mirror = np.diag([-1.0, 1.0, 1.0]) if orientation == 2 else np.diag([1.0, -1.0, 1.0])
        mirror[:2, 2] = (width, 0.0) if orientation == 2 else (0.0, height)
        return mirror
    if orientation == 5:  # transpose: (x, y) -> (y, x)
        return np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    if orientation == 7:  # transverse: (x, y) -> (H - y, W - x)
        return np.array([[0.0, -1.0, height], [-1.0, 0.0, width], [0.0, 0.0, 1.0]])
    return quarter_turn(EXIF_TURNS.get(orientation, 0), width, height)


def invert(matrix: Matrix | list[float] | tuple[float, ...]) -> Matrix:
    """Inverse of a homography (also given as 9 row-major floats)."""
    array = np.asarray(matrix, dtype=np.float64).reshape(3, 3)
    return np.asarray(np.linalg.inv(array), dtype=np.float64)


def apply(matrix: Matrix, points: list[Point] | NDArray[np.float64]) -> NDArray[np.float64]:
    """Map an N x 2 set of points through ``matrix``."""
    array = np.asarray(points, dtype=np.float64).reshape(-1, 1, 2)
    return np.asarray(cv2.perspectiveTransform(array, matrix), dtype=np.float64).reshape(-1, 2)


def quad_to_rect(quad: NDArray[np.float64], rect: tuple[float, float, float, float]) -> Matrix:
    """Homography taking ``quad`` (TL, TR, BR, BL) onto ``rect`` (left, top, right, bottom)."""
    left, top, right, bottom = rect
    target = np.array([[left, top], [right, top], [right, bottom], [left, bottom]], np.float32)
    matrix = cv2.getPerspectiveTransform(np.asarray(quad, np.float32), target)
    return np.asarray(matrix, dtype=np.float64)


def quad_size(quad: NDArray[np.float64]) -> tuple[float, float]:
    """Mean width and height of a quadrilateral (TL, TR, BR, BL)."""
    tl, tr, br, bl = (np.asarray(p, dtype=np.float64) for p in quad)
    width = (np.linalg.norm(tr - tl) + np.linalg.norm(br - bl)) / 2
    height = (np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)) / 2
    return float(width), float(height)


def order_corners(points: NDArray[np.float64]) -> NDArray[np.float64]:
    """Four points as TL, TR, BR, BL (by the sums and differences of coordinates)."""
    pts = np.asarray(points, dtype=np.float64).reshape(4, 2)
    total, diff = pts.sum(axis=1), pts[:, 1] - pts[:, 0]
    return np.array(
        [pts[np.argmin(total)], pts[np.argmin(diff)], pts[np.argmax(total)], pts[np.argmax(diff)]]
    )


def intersect(a: tuple[Point, Point], b: tuple[Point, Point]) -> Point:
    """Intersection of two lines, each given as (point, direction)."""
    (px, py), (dx, dy) = a
    (qx, qy), (ex, ey) = b
    det = dx * ey - dy * ex
    if abs(det) < 1e-9:
        return (math.nan, math.nan)
    t = ((qx - px) * ey - (qy - py) * ex) / det
    return (px + t * dx, py + t * dy)


def polygon_area(points: NDArray[np.float64]) -> float:
    """Area of a simple polygon (shoelace)."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(pts) < 3:
        return 0.0
    x, y = pts[:, 0], pts[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


def clip_polygon(subject: NDArray[np.float64], clip: NDArray[np.float64]) -> NDArray[np.float64]:
    """Part of ``subject`` inside the convex polygon ``clip`` (Sutherland-Hodgman)."""
    output = [tuple(p) for p in np.asarray(subject, dtype=np.float64).reshape(-1, 2)]
    ring = np.asarray(clip, dtype=np.float64).reshape(-1, 2)
    # Orientation decides which side of each clip edge is inside.
    sign = 1.0 if _signed_area(ring) > 0 else -1.0
    for a, b in zip(ring, np.roll(ring, -1, axis=0), strict=True):
        if not output:
            break
        points, output = output, []
        for p, q in zip(points, points[1:] + points[:1], strict=True):
            p_in, q_in = _side(a, b, p) * sign >= 0, _side(a, b, q) * sign >= 0
            if p_in:
                output.append(p)
            if p_in != q_in:
                output.append(_cross_point(a, b, p, q))
    return np.asarray(output, dtype=np.float64).reshape(-1, 2)


def convex_pieces(points: NDArray[np.float64]) -> list[NDArray[np.float64]]:
    """``points`` (a simple polygon) as convex pieces that tile it: itself when it is
    convex, else triangles (ear clipping), so that :func:`clip_polygon` can clip by
    it piece by piece (a dewarped region's outline bows)."""
    ring = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    sign = 1.0 if _signed_area(ring) > 0 else -1.0
    edges = np.roll(ring, -1, axis=0) - ring
    turns = (
        edges[:, 0] * np.roll(edges, -1, axis=0)[:, 1]
        - edges[:, 1] * np.roll(edges, -1, axis=0)[:, 0]
    )
    if len(ring) <= 3 or bool(np.all(turns * sign >= -1e-9)):
        return [ring]
    slabs = _slabs(ring)
    if slabs is not None:
        return slabs
    index = list(range(len(ring)))
    pieces = []
    while len(index) > 3:
        ear = _ear(ring, index, sign)
        if ear is None:  # degenerate (self-touching) outline: keep what is left whole
            break
        a, b, c = (index[(ear + k) % len(index)] for k in (-1, 0, 1))
        if _side(ring[a], ring[b], tuple(ring[c])) * sign > 0:
            pieces.append(ring[[a, b, c]])
        del index[ear]
    pieces.append(ring[index])
    return pieces


def _slabs(ring: NDArray[np.float64]) -> list[NDArray[np.float64]] | None:
    """A polygon monotone along its long axis (a band whose top and bottom edges step
    round the writing) as the trapezoids between its vertices along that axis; None
    when it is not monotone. Linear in its points, where ear clipping is cubic."""
    centre = ring.mean(axis=0)
    _, _, axes = np.linalg.svd(ring - centre, full_matrices=False)
    along, across = (ring - centre) @ axes[0], (ring - centre) @ axes[1]
    count = len(ring)
    first, last = int(np.argmin(along)), int(np.argmax(along))
    one = [(first + k) % count for k in range((last - first) % count + 1)]
    two = [(last + k) % count for k in range((first - last) % count + 1)][::-1]
    if np.any(np.diff(along[one]) < 0) or np.any(np.diff(along[two]) < 0):
        return None
    stops = np.unique(along)
    # Each slab's left side just right of its stop, its right side just left of the
    # next: where an edge runs straight across the axis, both its ends count.
    starts, ends = stops[:-1], stops[1:]
    left_one = _chain_at(along[one], across[one], starts, after=True)
    right_one = _chain_at(along[one], across[one], ends, after=False)
    left_two = _chain_at(along[two], across[two], starts, after=True)
    right_two = _chain_at(along[two], across[two], ends, after=False)
    pieces = []
    for k in range(stops.size - 1):
        a, b = starts[k], ends[k]
        corners = [(a, left_one[k]), (b, right_one[k]), (b, right_two[k]), (a, left_two[k])]
        piece = np.array([centre + x * axes[0] + y * axes[1] for x, y in corners])
        if polygon_area(piece) > 1e-9:
            pieces.append(piece)
    return pieces


def _chain_at(
    along: NDArray[np.float64], across: NDArray[np.float64], at: NDArray[np.float64], after: bool
) -> NDArray[np.float64]:
    """A chain's offset across the axis at the positions ``at`` along it (``along``
    never decreasing), taken just after each position or just before it."""
    last = along.size - 1
    if after:
        low = np.clip(np.searchsorted(along, at, "right") - 1, 0, last - 1)
    else:
        low = np.clip(np.searchsorted(along, at, "left"), 1, last) - 1
    span = along[low + 1] - along[low]
    share = np.divide(
        at - along[low], span, out=np.full(at.shape, 0.0 if after else 1.0), where=span > 0
    )
    return np.asarray(across[low] + share * (across[low + 1] - across[low]), np.float64)


def _ear(ring: NDArray[np.float64], index: list[int], sign: float) -> int | None:
    """The position in ``index`` of a vertex whose triangle with its neighbours is
    inside the polygon and holds no other vertex; None when there is none."""
    count = len(index)
    for k in range(count):
        a, b, c = ring[index[k - 1]], ring[index[k]], ring[index[(k + 1) % count]]
        turn = _side(a, b, tuple(c)) * sign
        if turn < 0:
            continue
        if turn == 0:
            return k  # a straight vertex: dropping it changes nothing
        others = ring[
            [index[j] for j in range(count) if j not in ((k - 1) % count, k, (k + 1) % count)]
        ]
        inside = np.ones(len(others), bool)
        for p, q in ((a, b), (b, c), (c, a)):
            side = (q[0] - p[0]) * (others[:, 1] - p[1]) - (q[1] - p[1]) * (others[:, 0] - p[0])
            inside &= side * sign > 0
        if not inside.any():
            return k
    return None


def _signed_area(pts: NDArray[np.float64]) -> float:
    x, y = pts[:, 0], pts[:, 1]
    return float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2


def _side(a: NDArray[np.float64], b: NDArray[np.float64], p: tuple[float, ...]) -> float:
    return float((b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]))


def _cross_point(
    a: NDArray[np.float64], b: NDArray[np.float64], p: tuple[float, ...], q: tuple[float, ...]
) -> tuple[float, float]:
    sp, sq = _side(a, b, p), _side(a, b, q)
    t = sp / (sp - sq)
    return (p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1]))
