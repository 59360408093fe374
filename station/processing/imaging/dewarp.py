"""Dewarping of curved pages: a text-line model of the bend of a bound book's page.

A page photographed open in its book bows towards the binding: its ruled lines and
lines of writing, straight on the paper, come out as curves. Normalisation
(:mod:`station.processing.imaging.normalise`) takes out everything projective (the
paper's outline, skew, quarter turns); what is left of the bend is measured here on
the small normalised page (~100 dpi), and taken out of it and of every cut.

The model (the idea of ScanTailor's line tracing and of page-dewarp's smooth sheet,
fitted the cheap way): a point ``(x, t)`` of the straightened page was photographed at
``(x, t + d(x, t))``, with ``d`` one smooth vertical displacement field over the page.

1. Line pieces: the ink is smeared along rows (gaps of ~6 mm closed), thickened a
   little across (so a steep bow near the fold survives) and opened with a 0.4-inch
   bar, which leaves ruled lines and lines of writing and drops letters, specks and
   vertical rules. Each piece is sampled every 0.1 inch across: its centre row in that
   column, where the piece is one thin run there (no blob of merged lines).
2. Fit: every piece is a straight line ``t`` bent by ``d``, so its samples are
   ``y = t_piece + d(x, t_piece)``. ``d`` is a tensor product of a cubic B-spline
   across the page (a knot about every inch, so both pages of a spread, bowing into
   one fold, fit together) and a cubic polynomial down it, with a penalty on its
   curvature across so that columns without lines stay smooth. Each piece's own
   height ``t`` is eliminated by centring its samples; the coefficients are a
   weighted least-squares solution, reweighted with Tukey's biweight, so that
   strokes, merged lines and slanted handwriting lose their say.
3. Evidence: the field is evaluated on a grid of nodes (clamped to the part of the
   page the lines cover: no extrapolation into empty margins). The page is curved when
   the field strays at least :data:`BEND_IN` from one tilt of the whole page, it cuts
   the lines' scatter to :data:`EXPLAINED` or less (a hand-ruled register whose
   writing wanders is not a bent page) and at least :data:`MIN_LINES` pieces agree.
   A flat page whose long ruled lines are all straight stops before the fit
   (:func:`_straight_rules`); otherwise estimating costs a few morphological passes
   and a small least-squares fit on the small page.

When curved, the field is kept as :class:`Bend`: the homography of the straight
normalised frame and the displacement at the grid's nodes. It maps the *straight
capture* (the capture as if flat: where every homography of the page's regions
lives) to the real capture. Each region keeps a coarse grid of real capture points
across its box (:func:`region_grid`): its outline follows the bent lines
(:func:`grid_outline`) and its crop is straightened by a remap whose maps are that grid
interpolated per strip of rows (:func:`crop_grid`), so no full-resolution map of the
whole capture is ever built.

Measured with ``bench/dewarp.py`` (figures in ``docs/developers.md``, "Curved pages of
bound books").
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from station.processing.imaging import geometry as geo

log = logging.getLogger(__name__)

Gray = NDArray[np.uint8]
Points = NDArray[np.float64]

#: Residual bend (inches) from which a page is dewarped: the field strays this far
#: from one tilt of the whole page. The scans of ``bench/real_pages.py`` measure up to
#: 0.11 (handwriting off its line, a register's rules drawn by hand), the bent
#: simulated photos 0.08 to 0.13, the curved tuning photo ``dewarp_boston_cooking_a``
#: 0.2 ...
BEND_IN = 0.07
#: ... and the field must explain the lines: the scatter of their samples about one
#: straight tilt of the page (RMS) is cut to this share or less by it. The scans whose
#: handwriting strays up to 0.1 inch keep 0.61 and more; the bent simulated photos
#: 0.49 and less, ``dewarp_boston_cooking_a`` 0.13.
EXPLAINED = 0.55
#: Line pieces that must agree (keep most of their weight in the robust fit).
MIN_LINES = 8
#: The early way out: this many pieces at least ``RULE_IN`` long (inches), and
#: ``STRAIGHT_SHARE`` of them within ``STRAIGHT_IN`` of their chord, are the ruled lines
#: of a flat page (on the simulated spread of ``bench/page_cpu.py`` 17 of 20 are, the
#: rest strayed 0.034-0.039 inch: rules merged with writing; a bent page bows them all).
STRAIGHT_RULES = 3
RULE_IN = 3.0
STRAIGHT_IN = 0.03
STRAIGHT_SHARE = 0.8
GAP_IN = 0.25  # gaps closed along a line of writing
PIECE_IN = 0.4  # the shortest line piece
THICKEN_IN = 0.07  # lines thickened across by this before the bar (slopes up to ~0.15)
THICK_IN = 0.3  # a piece thicker than this in a column holds more than one line there
STEP_IN = 0.1  # a sample every so many inches across each piece
KNOT_IN = 1.0  # the B-spline's knot spacing across the page
Y_DEGREE = 3  # the field's degree down the page
SMOOTH = 0.003  # weight of the curvature penalty, per unit of sample weight
ROBUST_STEPS = 5  # reweighted least-squares solutions
NODES = (17, 33)  # rows, columns of the stored field
#: A region's grid: a node about every so many inches of its box (capture pixels),
#: at most ``GRID_MAX`` a side (the grid travels in every PDF's record; the field, a
#: knot an inch, is smooth enough for 17 nodes across a whole page).
GRID_IN = 0.5
GRID_MAX = 17
STRIP_ROWS = 256  # rows of a crop remapped at once
INVERSE_STEPS = 6  # fixed-point steps of Bend.to_straight


@dataclass(frozen=True)
class Bend:
    """A page's measured bend: straight capture -> real capture.

    ``matrix`` maps capture pixels to the straightened normalised frame (size
    ``size``) in which ``nodes`` holds the vertical displacement ``d`` (small pixels)
    on a regular grid spanning the frame, corners included; ``inches`` is the bend
    measured, ``lines`` the pieces that agreed.
    """

    matrix: geo.Matrix
    size: tuple[int, int]
    nodes: NDArray[np.float32]
    inches: float
    lines: int

    def shift(self, points: Points) -> NDArray[np.float64]:
        """``d`` at points of the straight normalised frame (bilinear between nodes)."""
        rows, cols = self.nodes.shape
        at = points * [(cols - 1) / max(1, self.size[0]), (rows - 1) / max(1, self.size[1])]
        return _at_nodes(self.nodes, at)

    def to_capture(self, points: Points) -> Points:
        """Straight capture points to where the bent page shows them."""
        small = geo.apply(self.matrix, np.asarray(points, np.float64).reshape(-1, 2))
        small[:, 1] += self.shift(small)
        return geo.apply(geo.invert(self.matrix), small)

    def to_straight(self, points: Points) -> Points:
        """Capture points to the straight capture (the inverse of :meth:`to_capture`:
        a few fixed-point steps, the field being smooth and small)."""
        bent = geo.apply(self.matrix, np.asarray(points, np.float64).reshape(-1, 2))
        small = bent.copy()
        for _ in range(INVERSE_STEPS):
            small[:, 1] = bent[:, 1] - self.shift(small)
        return geo.apply(geo.invert(self.matrix), small)

    def straighten(self, image: Gray, fill: int) -> Gray:
        """A small image of the normalised frame (bent) as the straight page shows it."""
        height, width = image.shape[:2]
        rows, cols = self.nodes.shape
        down = np.arange(height) * (rows - 1) / max(1, self.size[1])
        shift = _interp(self.nodes, down, np.arange(width) * (cols - 1) / max(1, self.size[0]))
        map_x = np.ascontiguousarray(
            np.broadcast_to(np.arange(width, dtype=np.float32), shift.shape)
        )
        map_y = np.ascontiguousarray(np.arange(height, dtype=np.float32)[:, None] + shift)
        out = cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderValue=fill)
        return np.asarray(out, np.uint8)


def _at_nodes(grid: NDArray[np.float32], at: Points) -> NDArray[np.float64]:
    """``grid`` (rows x cols nodes) bilinearly interpolated at points given in
    fractional node indices (column, row), clamped to the nodes."""
    rows, cols = grid.shape
    fx = np.clip(at[:, 0], 0, cols - 1)
    fy = np.clip(at[:, 1], 0, rows - 1)
    x0 = np.minimum(fx.astype(np.int64), cols - 2)
    y0 = np.minimum(fy.astype(np.int64), rows - 2)
    ax, ay = fx - x0, fy - y0
    values = grid.astype(np.float64)
    top = values[y0, x0] * (1 - ax) + values[y0, x0 + 1] * ax
    bottom = values[y0 + 1, x0] * (1 - ax) + values[y0 + 1, x0 + 1] * ax
    return np.asarray(top * (1 - ay) + bottom * ay, np.float64)


def _interp(
    grid: NDArray[np.float32], down: NDArray[np.float64], across: NDArray[np.float64]
) -> NDArray[np.float32]:
    """``grid`` (rows x cols nodes) linearly interpolated at fractional node indices
    ``down`` x ``across`` (clamped to the nodes): separable gathers, no matrix
    product (BLAS threads fight over the station's two cores)."""
    rows = _between(down, grid.shape[0])
    cols = _between(across, grid.shape[1])
    (low, frac) = rows
    part = grid[low] * (1 - frac)[:, None] + grid[low + 1] * frac[:, None]
    (low, frac) = cols
    return np.asarray(part[:, low] * (1 - frac) + part[:, low + 1] * frac, np.float32)


def _between(
    positions: NDArray[np.float64], count: int
) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
    """The node below each fractional index and the fraction past it."""
    position = np.clip(np.asarray(positions, np.float64), 0, count - 1)
    low = np.minimum(position.astype(np.int64), count - 2)
    return low, (position - low).astype(np.float32)


def line_samples(ink: Gray, dpi: float) -> tuple[Points, NDArray[np.int64]]:
    """Centre points (x, y) of the line pieces of ``ink`` and each one's piece."""
    gap = max(3, round(dpi * GAP_IN))
    smeared = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, np.ones((1, gap), np.uint8))
    # A bowed line is steep near the fold: thickened first, it survives the bar there.
    smeared = cv2.dilate(smeared, np.ones((max(3, round(dpi * THICKEN_IN)) | 1, 1), np.uint8))
    pieces = cv2.morphologyEx(
        smeared, cv2.MORPH_OPEN, np.ones((1, max(9, round(dpi * PIECE_IN))), np.uint8)
    )
    count, labels = cv2.connectedComponents(pieces, connectivity=8)
    step = max(1, round(dpi * STEP_IN))
    sampled = np.ascontiguousarray(labels[:, ::step])
    ys, cols = np.nonzero(sampled)
    if ys.size == 0:
        return np.zeros((0, 2)), np.zeros(0, np.int64)
    keys = sampled[ys, cols].astype(np.int64) * sampled.shape[1] + cols
    size = count * sampled.shape[1]
    pixels = np.bincount(keys, minlength=size)
    sums = np.bincount(keys, weights=ys.astype(np.float64), minlength=size)
    # The extent too: a column holding two blobs of one piece is no single line there.
    low = np.full(size, np.inf)
    high = np.full(size, -np.inf)
    np.minimum.at(low, keys, ys)
    np.maximum.at(high, keys, ys)
    keep = (pixels > 0) & (high - low + 1 <= dpi * THICK_IN) & (high - low + 1 <= pixels + 2)
    chosen = np.nonzero(keep)[0]
    labels_of = chosen // sampled.shape[1]
    points = np.column_stack([(chosen % sampled.shape[1]) * step, sums[chosen] / pixels[chosen]])
    return points.astype(np.float64), labels_of


def _bspline(t: NDArray[np.float64], intervals: int) -> NDArray[np.float64]:
    """Uniform cubic B-spline basis (N x intervals + 3) at ``t`` in [0, 1]."""
    u = np.clip(t, 0.0, 1.0) * intervals
    first = np.minimum(u.astype(np.int64), intervals - 1)
    f = u - first
    values = (
        np.column_stack(
            [(1 - f) ** 3, 3 * f**3 - 6 * f**2 + 4, -3 * f**3 + 3 * f**2 + 3 * f + 1, f**3]
        )
        / 6.0
    )
    basis = np.zeros((t.size, intervals + 3))
    rows = np.arange(t.size)
    for k in range(4):
        basis[rows, first + k] = values[:, k]
    return basis


@dataclass(frozen=True)
class _Model:
    """The field's basis over a frame: knots across, polynomial down."""

    width: float
    height: float
    intervals: int

    def basis(self, points: Points) -> NDArray[np.float64]:
        across = _bspline(points[:, 0] / self.width, self.intervals)
        down = np.polynomial.legendre.legvander(2 * points[:, 1] / self.height - 1, Y_DEGREE)
        return (across[:, :, None] * down[:, None, :]).reshape(points.shape[0], -1)

    def penalty(self) -> NDArray[np.float64]:
        """Curvature across (second differences of the spline's coefficients)."""
        count = self.intervals + 3
        second = np.diff(np.eye(count), 2, axis=0)
        return np.asarray(np.kron(second.T @ second, np.eye(Y_DEGREE + 1)), np.float64)


def _centred(
    values: NDArray[np.float64], lines: NDArray[np.int64], weights: NDArray[np.float64]
) -> NDArray[np.float64]:
    """``values`` (N or N x k) less each line's weighted mean."""
    total = np.bincount(lines, weights=weights)
    total = np.where(total > 0, total, 1.0)
    if values.ndim == 1:
        return values - (np.bincount(lines, weights=weights * values) / total)[lines]
    means = np.column_stack(
        [np.bincount(lines, weights=weights * values[:, k]) / total for k in range(values.shape[1])]
    )
    return values - means[lines]


def fit_field(
    points: Points, lines: NDArray[np.int64], size: tuple[int, int], dpi: float
) -> tuple[NDArray[np.float64], _Model, NDArray[np.float64], float] | None:
    """The field's coefficients, its model, each sample's final weight and the share
    of the samples' scatter about one tilt of the page (RMS) left by the field; None
    with too few samples."""
    if points.shape[0] < 20:
        return None
    _, lines = np.unique(lines, return_inverse=True)
    model = _Model(float(size[0]), float(size[1]), max(2, round(size[0] / (KNOT_IN * dpi))))
    # Each piece's straight height: its mean row (the field barely moves it).
    heights = np.bincount(lines, weights=points[:, 1]) / np.bincount(lines)
    basis = model.basis(np.column_stack([points[:, 0], heights[lines]]))
    penalty = model.penalty()
    ridge = 1e-3 * np.eye(basis.shape[1])
    weights = np.ones(points.shape[0])
    coefficients = np.zeros(basis.shape[1])
    for _ in range(ROBUST_STEPS):
        y = _centred(points[:, 1], lines, weights)
        a = _centred(basis, lines, weights)
        total = float(weights.sum())
        weighted = a * weights[:, None]
        normal = np.einsum("ni,nj->ij", weighted, a) + SMOOTH * total * (penalty + ridge)
        coefficients = np.linalg.solve(normal, np.einsum("ni,n->i", weighted, y))
        residual = y - np.einsum("ni,i->n", a, coefficients)
        scale = max(0.02 * dpi, 1.4826 * float(np.median(np.abs(residual[weights > 0]))))
        ratio = residual / (4.685 * scale)
        weights = np.where(np.abs(ratio) < 1, (1 - ratio**2) ** 2, 0.0)
    return coefficients, model, weights, _left(points, lines, weights, residual)


def _left(
    points: Points, lines: NDArray[np.int64], weights: NDArray[np.float64], residual: Points
) -> float:
    """RMS of ``residual`` over the RMS about one tilt of the page (both weighted)."""
    y = _centred(points[:, 1], lines, weights)
    x = _centred(points[:, 0], lines, weights)
    slope = float((weights * x * y).sum() / max(1e-9, float((weights * x * x).sum())))
    base = float((weights * (y - slope * x) ** 2).sum())
    return math.sqrt(float((weights * residual**2).sum()) / max(1e-9, base))


def estimate(ink: Gray, dpi: float, matrix: geo.Matrix) -> Bend | None:
    """The page's bend when the lines of ``ink`` (the small normalised page, upright,
    at ``dpi``; ``matrix``: capture -> that frame) show one, else None."""
    points, lines = _samples(ink, dpi)
    if _straight_rules(points, lines, dpi):
        return None
    measured = _fitted(points, lines, ink.shape, dpi)
    if measured is None:
        return None
    nodes, bend, agreeing, left = measured
    log.debug("dewarp: bend %.3f in, %.2f of the scatter left, %d pieces", bend, left, agreeing)
    if bend < BEND_IN or left > EXPLAINED or agreeing < MIN_LINES:
        return None
    height, width = ink.shape
    return Bend(matrix, (width, height), nodes.astype(np.float32), round(bend, 3), agreeing)


def measure(ink: Gray, dpi: float) -> float | None:
    """The bend (inches) the lines of ``ink`` show, whatever it is; None without lines."""
    points, lines = _samples(ink, dpi)
    measured = _fitted(points, lines, ink.shape, dpi)
    return None if measured is None else measured[1]


def _samples(ink: Gray, dpi: float) -> tuple[Points, NDArray[np.int64]]:
    """:func:`line_samples` of ``ink`` without its border: paper edges and table
    slivers at the border of a warped photo look like lines."""
    height, width = ink.shape
    border = max(3, round(min(height, width) * 0.02))
    inner = ink.copy()
    inner[:border], inner[-border:], inner[:, :border], inner[:, -border:] = 0, 0, 0, 0
    return line_samples(inner, dpi)


def _straight_rules(points: Points, lines: NDArray[np.int64], dpi: float) -> bool:
    """Whether at least :data:`STRAIGHT_RULES` pieces are ``RULE_IN`` long and
    ``STRAIGHT_SHARE`` of them are straight within ``STRAIGHT_IN`` (a rule merged with
    a line of writing may not be): ruled lines that show a flat page,
    so the fit is skipped (a bent page bows its long rules most of all)."""
    if lines.size == 0:
        return False
    low = np.full(int(lines.max()) + 1, np.inf)
    high = np.full(int(lines.max()) + 1, -np.inf)
    np.minimum.at(low, lines, points[:, 0])
    np.maximum.at(high, lines, points[:, 0])
    long = np.nonzero(high - low >= RULE_IN * dpi)[0]
    if long.size < STRAIGHT_RULES:
        return False
    straight = 0
    for label in long:
        xs, ys = points[lines == label, 0], points[lines == label, 1]
        slope, offset = np.polyfit(xs, ys, 1)
        straight += float(np.abs(ys - (slope * xs + offset)).max()) <= STRAIGHT_IN * dpi
    return straight >= STRAIGHT_SHARE * long.size


def _fitted(
    points: Points, lines: NDArray[np.int64], shape: tuple[int, ...], dpi: float
) -> tuple[NDArray[np.float64], float, int, float] | None:
    """The field's nodes, its bend (inches), the pieces that agree and the share of
    the scatter it leaves."""
    height, width = shape[:2]
    fitted = fit_field(points, lines, (width, height), dpi)
    if fitted is None:
        return None
    coefficients, model, weights, left = fitted
    nodes = _nodes(coefficients, model, points, weights)
    bend = _bend_px(nodes, points, (width, height)) / dpi
    return nodes, bend, _agreeing(lines, weights), left


def _agreeing(lines: NDArray[np.int64], weights: NDArray[np.float64]) -> int:
    """Pieces of at least 5 samples that kept most of their weight in the fit."""
    counts = np.bincount(lines)
    kept = np.bincount(lines, weights=weights)
    return int(np.count_nonzero((counts >= 5) & (kept >= 0.6 * counts)))


def _nodes(
    coefficients: NDArray[np.float64], model: _Model, points: Points, weights: NDArray[np.float64]
) -> NDArray[np.float64]:
    """The field on the stored grid, clamped to the area the agreeing lines cover and
    with each row's mean across taken out (a shift along a whole row is no bend)."""
    rows, cols = NODES
    used = points[weights > 0.1] if np.count_nonzero(weights > 0.1) >= 20 else points
    low, high = np.percentile(used, [2, 98], axis=0)
    xs = np.clip(np.linspace(0, model.width, cols), low[0], high[0])
    ys = np.clip(np.linspace(0, model.height, rows), low[1], high[1])
    grid_x, grid_y = np.meshgrid(xs, ys)
    basis = model.basis(np.column_stack([grid_x.ravel(), grid_y.ravel()]))
    values = np.einsum("ni,i->n", basis, coefficients)
    field = values.reshape(rows, cols)
    return np.asarray(field - field.mean(axis=1, keepdims=True), np.float64)


def _bend_px(nodes: NDArray[np.float64], points: Points, size: tuple[int, int]) -> float:
    """How far the field strays from one tilt of the whole page (within the lines'
    span): rows bowed, and rows tilted unlike each other (perspective left over)."""
    cols = nodes.shape[1]
    xs = np.linspace(0, size[0], cols)
    inside = (xs >= points[:, 0].min()) & (xs <= points[:, 0].max())
    if inside.sum() < 3:
        return 0.0
    across = xs[inside] - xs[inside].mean()
    rows = nodes[:, inside] - nodes[:, inside].mean(axis=1, keepdims=True)
    slope = float((rows * across).sum() / max(1e-9, float((across**2).sum()) * rows.shape[0]))
    return float(np.abs(rows - slope * across).max())


def region_grid(
    box: tuple[int, int, int, int], warp: Sequence[float], bend: Bend, step: float
) -> tuple[float, ...]:
    """A region's grid of real capture points: ``(rows, cols, x..., y...)`` at nodes
    about ``step`` capture pixels apart spanning ``box`` (in the frame ``warp`` maps the
    straight capture to), row-major."""
    left, top, right, bottom = box
    cols = min(GRID_MAX, max(3, math.ceil((right - left) / step) + 1))
    rows = min(GRID_MAX, max(2, math.ceil((bottom - top) / step) + 1))
    grid_x, grid_y = np.meshgrid(np.linspace(left, right, cols), np.linspace(top, bottom, rows))
    frame = np.column_stack([grid_x.ravel(), grid_y.ravel()])
    straight = geo.apply(geo.invert(tuple(warp)), frame)
    bent = bend.to_capture(straight)
    return (float(rows), float(cols), *bent[:, 0].tolist(), *bent[:, 1].tolist())


def _grid_arrays(grid: Sequence[float]) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    rows, cols = int(grid[0]), int(grid[1])
    values = np.asarray(grid[2:], np.float32)
    return values[: rows * cols].reshape(rows, cols), values[rows * cols :].reshape(rows, cols)


def grid_outline(grid: Sequence[float]) -> Points:
    """The outline of a region's grid, clockwise from its top-left corner, with every
    node along its edges (the bent edges' shape)."""
    xs, ys = _grid_arrays(grid)
    points = np.stack([xs, ys], axis=-1).astype(np.float64)
    return np.concatenate([points[0, :-1], points[:-1, -1], points[-1, :0:-1], points[:0:-1, 0]])


def grid_polygon(grid: Sequence[float], box: tuple[int, int, int, int], outline: Points) -> Points:
    """``outline`` (points in the frame of ``box``, which the grid spans) where the
    capture shows it: read through the grid as :func:`crop_grid` reads the pixels,
    with a point at least every half grid cell along its sides, so that its edges
    bend with the page between the outline's own points."""
    xs, ys = _grid_arrays(grid)
    rows, cols = xs.shape
    left, top, right, bottom = box
    scale = [(cols - 1) / max(1, right - left), (rows - 1) / max(1, bottom - top)]
    cells = (np.asarray(outline, np.float64).reshape(-1, 2) - [left, top]) * scale
    dense = []
    for start, end in zip(cells, np.roll(cells, -1, axis=0), strict=True):
        pieces = max(1, math.ceil(2 * float(np.abs(end - start).max())))
        dense.append(start + (end - start) * np.arange(pieces)[:, None] / pieces)
    at = np.vstack(dense)
    return np.stack([_at_nodes(xs, at), _at_nodes(ys, at)], axis=1)


def crop_grid(
    rgb: NDArray[np.uint8], size: tuple[int, int], grid: Sequence[float]
) -> NDArray[np.uint8]:
    """The ``size`` (width, height) pixels of a region whose grid spans them: the
    grid's capture points interpolated to maps strip by strip, and remapped."""
    width, height = size
    xs, ys = _grid_arrays(grid)
    rows, cols = xs.shape
    across = np.arange(width) * (cols - 1) / max(1, width)
    down = np.arange(height) * (rows - 1) / max(1, height)
    out = np.empty((height, width, rgb.shape[2]), np.uint8)
    for start in range(0, height, STRIP_ROWS):
        part = down[start : start + STRIP_ROWS]
        map_x = np.ascontiguousarray(_interp(xs, part, across))
        map_y = np.ascontiguousarray(_interp(ys, part, across))
        out[start : start + part.size] = cv2.remap(
            rgb, map_x, map_y, cv2.INTER_LINEAR, borderValue=(255, 255, 255)
        )
    return out
