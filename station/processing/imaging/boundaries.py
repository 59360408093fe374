"""Entry boundaries refined at full resolution.

:mod:`station.processing.imaging.entries` places each boundary between two entries on
the ~100-dpi working copy, from the densest rows of the lines it separates. Those rows
scatter by about a tenth of a row pitch (a third of a working pixel is a whole capture
pixel at 300 dpi), while a cut must land within a few capture pixels of where a person
draws it. So each boundary is measured again on the capture's own pixels, in a strip
along the edge found that holds both lines:

1. each line's body is the centre of its ink (darkness squared, so the dense band of
   the letters outweighs ascenders and descenders) within a third of a pitch of its
   densest row;
2. the boundary lies halfway between the two bodies, lifted a little (writing is
   denser below its middle, descenders are shorter than ascenders and capitals);
3. and moves to the nearest row between them whose ink is near the least there, so
   that it crosses no line of writing when an empty row lies close by;
4. unless a third line of writing lies between the two (a continuation row in small
   script that the working copy's row profile merged into its neighbour's: measured
   on ``rep_randomset1_0073_L-0``): it belongs to the entry above, since the lower
   line's mark starts the next entry, so the boundary goes in the gap under it. A
   rule under one column (an act closed inside its names column) is thinner than a
   line of writing and is no such line.

A blank line between two entries is crossed the same way: the boundary falls in the
middle of the blank, where the people who drew the ground truth put it. Every edge runs
along the writing's own slope across the whole table: an edge tilted on its own (fitted
through strips of the table) followed the cells of one row, which a scribe starts at
different heights, more than the row, and cut more lines in two on the tuning pages.
"""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
from numpy.typing import NDArray

from station.processing.imaging import geometry as geo
from station.processing.imaging.dewarp import Bend
from station.processing.imaging.entries import Band, KeyedEntries, runs_of

#: A pixel darker than this share of its local paper is ink; its darkness is how far
#: under it falls, so pale ink counts for less and paper grain not at all.
INK_RATIO = 0.85
#: A line's body is measured within this distance of its densest row (pitches).
BODY_REACH = 0.3
#: The boundary lies this far above the middle of the two bodies (pitches). Measured
#: on the tuning images of ``bench/real_pages.py``.
LIFT = 0.07
#: Rows next to each body the boundary never moves into (pitches).
BODY_MARGIN = 0.1
#: Rows whose ink is within this share of the strip's range above its least are as
#: good a place for the boundary as the emptiest.
NEAR_LEAST = 0.15
#: Ink between the two lines' bodies reaching this share of the strip's range above its
#: least, with a gap above and below it and at least ``MIDDLE_LINE_HEIGHT`` pitches
#: high, is a third line of writing. A continuation row written across the last
#: columns only is faint across the whole table: at 0.5 the one on
#: ``rep_randomset1_0073_L-0`` (0.45 of the range) was cut through.
MIDDLE_LINE = 0.4
MIDDLE_LINE_HEIGHT = 0.25


def refine(
    rgb: NDArray[np.uint8],
    back: geo.Matrix,
    found: KeyedEntries,
    work_scale: float,
    dpi: float,
    bend: Bend | None = None,
) -> KeyedEntries:
    """``found`` with each boundary between two lines of writing measured again on
    ``rgb``, the capture (``back`` maps the normalised frame to it, then ``bend`` on a
    dewarped page; ``work_scale`` is normalised pixels per capture pixel, ``dpi`` the
    capture's resolution)."""
    bands = list(found.bands)
    for index, band in enumerate(bands):
        if band.top_between is None:
            continue
        top = _boundary(rgb, (back, bend), found, band, work_scale, dpi)
        if top is None:
            continue
        bands[index] = replace(band, top=top)
        if index:
            bands[index - 1] = replace(bands[index - 1], bottom=top)
    return replace(found, bands=bands)


def _boundary(
    rgb: NDArray[np.uint8],
    back: tuple[geo.Matrix, Bend | None],
    found: KeyedEntries,
    band: Band,
    work_scale: float,
    dpi: float,
) -> float | None:
    """The row (normalised frame, at the table's centre column) of the boundary
    between the lines ``band.top_between`` names; None when they are too close to
    tell apart."""
    assert band.top_between is not None
    upper, lower = band.top_between
    reach = BODY_REACH * found.pitch
    if lower - upper < 2 * reach:
        return None
    strip = _strip(rgb, back, found, (upper - reach, lower + reach), work_scale)
    profile = _darkness(strip, dpi).mean(axis=1)
    rows = upper - reach + np.arange(profile.size) * work_scale
    top, bottom = _body(rows, profile, upper, reach), _body(rows, profile, lower, reach)
    middle = (top + bottom) / 2 - LIFT * found.pitch
    margin = BODY_MARGIN * found.pitch
    between = (rows > top + margin) & (rows < bottom - margin)
    if between.sum() < 3:
        return middle
    size = max(1, round(0.04 * found.pitch / work_scale)) | 1
    smooth = np.convolve(profile, np.ones(size) / size, mode="same")[between]
    least, most = float(smooth.min()), float(smooth.max())
    near = smooth <= least + NEAR_LEAST * (most - least)
    # A line of writing between the two (a row the working copy missed) belongs to the
    # entry above, which the lower line's mark starts: the boundary goes in the gap
    # just below it.
    tall = MIDDLE_LINE_HEIGHT * found.pitch / work_scale
    gap = _gap_below_middle_line(smooth, near, least + MIDDLE_LINE * (most - least), tall)
    if gap is not None:
        return float(rows[between][gap].mean())
    good = rows[between][near]
    return float(good[np.argmin(np.abs(good - middle))])


def _gap_below_middle_line(
    smooth: NDArray[np.float64], near: NDArray[np.bool_], line: float, tall: float
) -> NDArray[np.intp] | None:
    """The rows of the gap under the lowest run of ink that lies between two gaps
    (``near``), reaches ``line`` and is at least ``tall`` rows high (a rule drawn
    under one column is thinner); None when there is no such run."""
    gaps = runs_of(near)
    for start, end in reversed(runs_of(~near)):
        below = next((gap for gap in gaps if gap[0] == end), None)
        if below is None or start == 0 or end - start < tall or smooth[start:end].max() < line:
            continue
        return np.arange(*below)
    return None


def _body(
    rows: NDArray[np.float64], profile: NDArray[np.float64], at: float, reach: float
) -> float:
    """The centre of a line's ink near its densest row ``at`` (squared darkness, so the
    letters' dense band outweighs the strokes above and below it)."""
    for _ in range(2):
        inside = np.abs(rows - at) <= reach
        weight = profile[inside] ** 2
        if weight.sum() <= 0:
            break
        at = float((rows[inside] * weight).sum() / weight.sum())
    return at


def _strip(
    rgb: NDArray[np.uint8],
    back: tuple[geo.Matrix, Bend | None],
    found: KeyedEntries,
    rows: tuple[float, float],
    work_scale: float,
) -> NDArray[np.uint8]:
    """The darkest channel of the capture between two rows along the writing (rows at
    the table's centre column), across the table, one sample per capture pixel."""
    xs = np.arange(found.left, found.right, work_scale)
    offsets = np.arange(rows[0], rows[1], work_scale)
    grid_x, grid_y = np.meshgrid(xs, offsets)
    grid_y = grid_y + found.slope * (grid_x - found.centre)
    matrix, bend = back
    mapped = geo.apply(matrix, np.stack([grid_x.ravel(), grid_y.ravel()], axis=1))
    if bend is not None:
        mapped = bend.to_capture(mapped)
    map_x = np.ascontiguousarray(mapped[:, 0].reshape(grid_x.shape), np.float32)
    map_y = np.ascontiguousarray(mapped[:, 1].reshape(grid_x.shape), np.float32)
    sampled = cv2.remap(rgb, map_x, map_y, cv2.INTER_LINEAR, borderValue=(255, 255, 255))
    channels = cv2.split(np.asarray(sampled, np.uint8))
    return np.asarray(cv2.min(cv2.min(channels[0], channels[1]), channels[2]), np.uint8)


def _darkness(strip: NDArray[np.uint8], dpi: float) -> NDArray[np.float32]:
    """How far each pixel falls under :data:`INK_RATIO` of its local paper (strokes
    closed by a grey dilation, then blurred)."""
    stroke = max(3, round(dpi * 0.05)) | 1
    paper = cv2.dilate(strip, np.ones((stroke, stroke), np.uint8))
    paper = np.asarray(cv2.blur(paper, (4 * stroke + 1, 4 * stroke + 1)), np.float32)
    ratio = strip.astype(np.float32) / np.maximum(paper, 1.0)
    return np.asarray(np.clip(INK_RATIO - ratio, 0.0, None), np.float32)
