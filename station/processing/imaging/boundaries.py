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
2. the boundary lies halfway between the two bodies, lifted a fifth of a pitch (the
   next line's capitals and ascenders rise further than the upper line's descenders
   fall, and writing is denser below its middle);
3. and moves into the nearest run of rows between them whose ink is near the least
   there (of the cleanest such runs, a little inside its edges), so that it crosses
   no line of writing when an empty row lies close by;
4. unless a third line of writing lies between the two (a continuation row in small
   script that the working copy's row profile merged into its neighbour's: measured
   on ``rep_randomset1_0073_L-0``): it belongs to the entry above, since the lower
   line's mark starts the next entry, so the boundary goes in the gap under it. A
   rule under one column (an act closed inside its names column) is thinner than a
   line of writing and is no such line. A continuation row squeezed in over the next
   line (its descenders reaching the row of that line's capitals, so the ink never
   thins to paper between them: ``rep_randomset2_2674_L-1``) is found by the valleys
   either side of its ink instead, and the boundary goes in the valley under it;
5. and where that straight row still crosses writing (a cell written higher or lower
   than its row, a capital or a descender reaching past the other line's), the
   boundary steps round it: the least-ink path across the table between the two
   lines' bodies, held near the row, one node per 0.02 inch (:func:`_paths`, every
   boundary of the page in one pass), each stroke kept whole on the side of the
   boundary its ink's mean row lies on (:func:`_sided`), the rows beyond the lines'
   bodies open where the other line leaves its cells blank (:func:`_blank_beyond`),
   and kept clear of the lower line's writing where the paper between allows
   (:data:`CLEAR_COST`). The region's outline then follows the path
   (:func:`station.processing.imaging.regions.keyed_regions`).

A rule drawn across the table between the two lines (a register ruled row by row, a
printed form; often faint and broken into dashes, and not quite parallel to the
writing) is the boundary a person sees wherever it lies between them: the cut follows
it (:func:`_rule_between`).

A blank line between two entries is crossed the same way: the boundary falls in the
middle of the blank, where the people who drew the ground truth put it. Every edge runs
along the writing's own slope across the whole table: an edge tilted on its own (fitted
through strips of the table) followed the cells of one row, which a scribe starts at
different heights, more than the row, and cut more lines in two on the tuning pages.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from station.processing.imaging import geometry as geo
from station.processing.imaging.dewarp import Bend
from station.processing.imaging.entries import Band, KeyedEntries, runs_of

Path = tuple[tuple[float, float], ...]

#: A pixel darker than this share of its local paper is ink; its darkness is how far
#: under it falls, so pale ink counts for less and paper grain not at all.
INK_RATIO = 0.85
#: A line's body is measured within this distance of its densest row (pitches).
BODY_REACH = 0.3
#: The boundary lies this far above the middle of the two bodies (pitches): the next
#: line's capitals and ascenders reach higher over its body than the line above's
#: descenders reach under its own, and a person draws the line between the two where
#: neither reaches. Measured on the tuning images of ``bench/real_pages.py``: every
#: entry exact by writing from 0.10 to 0.25 (142 of 144 at 0.07, 143 at 0.30), split
#: lines 51, 42, 37, 34 at 0.10, 0.15, 0.20, 0.25; the middle of that plateau.
LIFT = 0.2
#: Rows next to each body the straight boundary never moves into (pitches). The path
#: round the writing may (:func:`_boundary`): measured on ``bench/real_pages.py``,
#: letting it take every row between the two bodies' centres cut one more entry
#: exactly by writing (held out: the superscripts of ``rep_randomset2_2674_L-1``'s
#: "Réquisitⁿ de notifⁿ") and split one line less by its ink; letting it into the
#: bodies (0.1 pitch) split two more.
BODY_MARGIN = 0.1
#: Rows whose ink is within this share of the strip's range above its least are as
#: good a place for the boundary as the emptiest.
NEAR_LEAST = 0.15
#: Of the runs of such rows, those whose mean ink is within this share of the strip's
#: range of the cleanest are paper between the lines; the boundary lies in the one
#: nearest its row, at least ``GAP_INSET`` pitches inside its edges. Without them a
#: lifted boundary stopped on the tips of a dense script's descenders (the simulator's
#: tall writing, 15 px of paper between two lines); on the tuning images the inset
#: changes nothing from 0 to 0.05 (0.1 split 11 more lines).
GAP_CLEANER = 0.05
GAP_INSET = 0.05
#: A rule drawn across the table between two lines of writing: in at least RULE_SPAN
#: of RULE_CHUNKS stretches across, a thin row (its cover of inked pixels at least
#: twice that RULE_THIN pitches above and below it) has RULE_COVER of its pixels
#: inked (darkness over RULE_INK), and those rows lie on one straight line within
#: RULE_BAND pitches. The boundary follows it. A faded dashed rule keeps only
#: fragments over that darkness: on the simulator's faded, bent spread photographed
#: (``bench/imaging.py --quick``, real-like layouts) its thin rows covered 0.2-0.4 in
#: most stretches, and at 0.3 one cut of its 20 followed the rule; at 0.2, 16; at
#: 0.15, all 20. The stored real pages are cut exactly alike at 0.3, 0.2 and 0.15
#: (every region's outline the same).
RULE_CHUNKS = 16
RULE_SPAN = 0.6
RULE_COVER = 0.15
#: Between the dashes the path keeps to the fitted line: it pays this much per pitch
#: off it (more than ``SEAM_PULL``, which holds it to one row).
RULE_FOLLOW = 1.0
RULE_INK = 0.05
RULE_BAND = 0.08
RULE_THIN = 0.12
#: ... and lies at least this far (pitches) from both lines' bodies: a ruling the
#: writing sits on (a notebook-ruled register, darker captured) lies a sixth of a
#: pitch under its line's body.
RULE_CLEAR = 0.25
#: A run of ink this long (inches) along one row of the strip is a rule, however short
#: against the table (one closing an act under its names column): it is left out when
#: the strip is read for lines of writing. Measured on the tuning images: 1.0 cut two
#: entries of ``rep_randomset1_0073_L-0`` less exactly (a long stroke of its writing),
#: 1.5 and 2.0 change none of their cuts.
RULE_RUN_IN = 2.0
#: Ink between the two lines' bodies reaching this share of the strip's range above its
#: least, with a gap above and below it and at least ``MIDDLE_LINE_HEIGHT`` pitches
#: high, is a third line of writing. A continuation row written across the last
#: columns only is faint across the whole table: at 0.5 the one on
#: ``rep_randomset1_0073_L-0`` (0.45 of the range) was cut through, at 0.4 four on
#: ``rep_randomset2_2674_L-1`` (about 0.36: a few words in the names column of a wide
#: table) were. The gaps and the height are what tell a line from a tall letter's
#: loop: on the tuning images every share from 0.05 to 0.4 gives the same cuts.
MIDDLE_LINE = 0.2
MIDDLE_LINE_HEIGHT = 0.25
#: A continuation row written so close above the next entry's line that the ink of the
#: two never thins to the strip's least (its descenders meet the next line's capitals)
#: is still a line of its own when its ink stands out of the valleys either side of it
#: by this share of its height, over at least ``CRAMPED_TALL`` pitches: the boundary
#: goes in the valley under it. Measured on the tuning images: any share from 0.3 to
#: 0.6 gives the same cuts (0.2 takes descenders for lines); a height of 0.08 pitch
#: lost an entry's ink, 0.25 cut one entry less exactly.
CRAMPED_DIP = 0.4
CRAMPED_TALL = 0.15
#: The path a boundary steps along: one node per this many inches across the table,
#: moving at most one capture pixel up or down per pixel across (more than one pixel
#: per node at a price, :data:`SEAM_JUMP`).
SEAM_STEP_IN = 0.02
#: What the path pays per node for each pitch it lies off the straight boundary (the
#: darkness of an ink pixel is up to 0.85): it leaves it only to pass round writing,
#: and then goes round rather than through a run of descenders. Measured on the
#: tuning images with ``LIFT`` 0.2: 0.2, 0.3, 0.5 cut 143, 144, 144 entries exactly by
#: writing and split the ink of 5, 3, 4 lines; at 0.5 the path crossed the long
#: descenders of a line written large to stay near the lifted row.
SEAM_PULL = 0.3
#: What the path pays for moving more than one capture pixel up or down from one
#: node to the next: it steps round a letter, it does not dip between letters.
SEAM_JUMP = 0.02
#: A straight boundary whose nodes all hold less darkness than this crosses no writing.
SEAM_CLEAR = 0.02
#: A pixel darker than this is part of a piece of writing the path keeps on its own
#: line's side (:func:`_sided`).
SIDE_INK = 0.05
#: A vertical run of ink over this share of the strip's height (gaps of 5 px closed,
#: a couple of pixels of drift allowed) is a rule down the table, in neither line's
#: piece: the band of about 5 px round it is left out. Measured on the tuning images:
#: without it, a column rule joined a capital of the lower line to the line above on
#: ``rep_randomset1_0073_L-0`` and the path cut through the capital.
SIDE_RULE = 0.8
#: A piece of writing under this many pitches high lying among the rows the path may
#: take is left to the path's own choice (:func:`_sided`): on the tuning image
#: ``rep_randomset1_0073_L-0`` captured darker (``bench/real_variations.py``) the
#: decimal points of sums written low in their row went by their centre to the line
#: below, and their lines were cut in two (8 lines split by their ink; 5 with this, 2
#: with no piece sided). 0.2 and 0.35 cut the stored images alike.
SIDE_SMALL = 0.2
#: ... unless it is a dash lying level with a sided piece at most this many pitches
#: across: then it is that piece's line's. ``rep_randomset1_0073_L-0``'s one-row act
#: "– d° (par Mᵐᵉ) à son mari ( d° –" reaches down to the next act's capitals, whose
#: clearance lifted the path over its dashes: the tuning line split by its ink. With
#: every small piece sided so, 0.25 to 1.0 cut the stored images alike but for one
#: held-out line's outline.
SIDE_BESIDE = 0.5
#: ... when it is a dash: at least DASH_WIDE times as wide as high and DASH_LONG
#: pitches long. Any small piece sided so (specks of a stroke's fringe, an accent
#: level with the foot of the line above) split 43 lines by their ink over the twelve
#: captures of the tuning images in ``bench/real_variations.py`` where 36 were
#: before: the acute accent of ``rep_randomset1_0073_L-0``'s "Dépôt", level with the
#: foot of "de dette" above it, went to that line.
DASH_WIDE = 3
DASH_LONG = 0.1
#: Beyond the rows between the two lines' bodies, the path may also take the rows
#: above (below) in columns where the upper (lower) line has no piece of writing
#: within this many pitches across: the cells of a column left blank in that line,
#: where a tall letter of the other line may rise (``rep_randomset2_2674_L-1``: the
#: "S" of "acceptⁿ de Sᵒⁿ" under a blank cell reached the upper line's body). Pieces
#: under ``OPEN_TALL`` pitch high (what is left of a faint ruled line, a dot) are no
#: writing here. Measured with ``bench/real_pages.py``: 0.1 pitch across (the gaps
#: between words) ran the path into a line's body (3 more lines split by their ink, 2
#: tuning entries less exact by writing); 1 pitch split 1 less than none, 2 as none.
OPEN_WIDE = 1.0
OPEN_TALL = 0.1
#: What the path pays per node for passing close over the lower line's writing: this
#: much at its ink, nothing from ``CLEAR_REACH`` pitches away. A person draws the cut
#: in the paper above the next line's letters, not along their tops: the truth of
#: ``bench/real_pages.py`` gives each line the rows from 0.6 pitch above its baseline
#: to 0.12 below, and a cell written higher than its row (a scribe starting a word a
#: little up) had its top left in the entry above. Per pitch, 0.2 over 0.3 outweighs
#: what straying from the straight boundary costs (``SEAM_PULL``), so where the paper
#: is clear the path keeps the whole reach; where the upper line's writing is closer,
#: it passes between the two. Only where the path is already taken: counted when
#: deciding whether the straight boundary crosses writing, it cut one tuning entry less
#: exactly. Measured on the repertory images (tuning / held out, exact by writing and
#: text lines split by their outline): none 57/57, 35 / 33/42, 33; 0.15 over 0.25 and
#: 0.3 57/57, 10 and 9 / 37/42; 0.2 over 0.3 57/57, 6 / 38/42, 13; 0.2 over 0.35 and
#: 0.3 over 0.3 56/57. Clear of both lines' writing: 56/57, 23 / 31/42.
CLEAR_COST = 0.2
CLEAR_REACH = 0.3
#: ... and as much for passing within this many capture pixels of the upper line's
#: writing: pushed up to it, the path ran along the faint edge pixels of descenders'
#: tips (paler than ``SIDE_INK``, so in no piece), and a region's outline, filled with
#: its edge, took the tips' last row into the entry below (the simulator's dense
#: stacked page, ``tests/unit/test_entries.py``). On the repertory images 1 changes one
#: held-out line's split by its outline (13 -> 14), 3 costs a tuning line.
CLEAR_UNDER = 1
#: Rows the path may not enter (the lines' bodies).
BLOCKED = 1e6
#: Between equally cheap steps, the straightest.
SEAM_TIE = 1e-4
#: Capture points a strip is sampled at a time (:func:`_strip`).
STRIP_POINTS = 1 << 19
#: A boundary's path passes at least this far (normalised pixels, half a pixel of the
#: working copy the marks are found on) above the top of the lower entry's start mark
#: across the key column: a number rising above its line (written high, or taller
#: than the line's letters) is its entry's, and a cut through it leaves the top of
#: its figures in the entry above.
NUMBER_CLEAR = 0.5


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
    capture's resolution), and stepped round the writing where a straight one would
    cross it."""
    bands = list(found.bands)
    detours: list[tuple[int, _Detour]] = []
    step = max(1, round(SEAM_STEP_IN * dpi))
    for index, band in enumerate(bands):
        if band.top_between is None:
            continue
        measured = _boundary(rgb, (back, bend), found, band, (work_scale, dpi), step)
        if measured is None:
            continue
        top, detour = measured
        bands[index] = replace(bands[index], top=top)
        if index:
            bands[index - 1] = replace(bands[index - 1], bottom=top)
        if detour is not None and detour.crosses():
            detours.append((index, detour))
    paths = _paths([detour for _, detour in detours], step)
    for (index, detour), path in zip(detours, paths, strict=True):
        offsets = detour.rows[path] - detour.chosen
        if np.abs(offsets).max() < work_scale:
            continue
        xs = found.left + (np.arange(path.size) * step + step / 2) * work_scale
        points = np.stack([xs, offsets], axis=1) / work_scale
        kept = cv2.approxPolyDP(points.astype(np.float32).reshape(-1, 1, 2), 1.0, False)
        steps = tuple((float(x) * work_scale, float(y) * work_scale) for x, y in kept[:, 0])
        bands[index] = replace(bands[index], top_path=steps)
        if index:
            bands[index - 1] = replace(bands[index - 1], bottom_path=steps)
    return replace(found, bands=bands)


@dataclass(frozen=True)
class _Detour:
    """What a boundary's path is found from: the darkness between the two lines per
    row and node (a node is ``step`` capture columns across the table), the rows
    (normalised frame), the cells (row, node) the path may take (between the lines'
    bodies, above the entry's number), the straight boundary's row and what passing
    close over the lower line's writing costs per cell (``near``)."""

    cells: NDArray[np.float32]
    rows: NDArray[np.float64]
    free: NDArray[np.bool_]
    chosen: float
    pitch: float
    near: NDArray[np.float32] | None = None

    @classmethod
    def of(
        cls, sides: _Sides, rows: NDArray[np.float64], free: NDArray[np.bool_],
        chosen: float, pitch: float, step: int, number: _Number | None = None,
    ) -> _Detour:  # fmt: skip
        """``sides``: the darkness per row and capture column to cross (what
        :func:`_sided` found), with the cells it opened (row, capture column) the path
        may take too, a node's only when all its columns are; ``free``: the rows the
        path may take; ``number``: where the lower entry's start mark lies, which the
        path passes above."""
        nodes = max(1, sides.costs.shape[1] // step)

        def per_node(values: NDArray[np.float32]) -> NDArray[np.float32]:
            # A node costs its darkest column: a stroke one pixel wide, averaged with
            # the paper beside it, made crossing a letter cheaper than stepping round it.
            return np.asarray(_each_node(values, nodes, step, np.maximum), np.float32)

        cells = per_node(sides.costs)
        near = None if sides.near is None else per_node(sides.near)
        open_cells = np.repeat(free[:, None], nodes, axis=1)
        if sides.opened is not None:
            open_cells |= _each_node(sides.opened, nodes, step, np.logical_and)
        above = np.zeros_like(free) if number is None else rows < number.top
        if number is not None and above.any():
            # Across the key column the path passes above the number, however high it
            # is written: up to the strip's top, over the upper line's body too, which
            # has no writing there (the number column of the entry above is blank or
            # holds its own number, lower down its rows).
            open_cells[:, number.nodes[0] : number.nodes[1]] = above[:, None]
        return cls(cells, rows, open_cells, chosen, pitch, near)

    def crosses(self) -> bool:
        """Whether the straight boundary crosses writing (or the entry's number)."""
        at = int(np.argmin(np.abs(self.rows - self.chosen)))
        if self.cells.shape[1] < 2:
            return False
        return float(self.cells[at].max()) >= SEAM_CLEAR or not self.free[at].all()

    def cost(self) -> NDArray[np.float32]:
        """What the path pays at each (node, row)."""
        off = (self.rows - self.chosen) / self.pitch
        pull = SEAM_PULL * np.abs(off)
        cells = self.cells if self.near is None else self.cells + self.near
        cost = np.where(self.free.T, cells.T + pull[None, :], BLOCKED)
        return np.asarray(cost, np.float32)


def _each_node(values: NDArray[Any], nodes: int, step: int, join: np.ufunc) -> NDArray[Any]:
    """``values`` (rows, capture columns) joined by ``join`` over each node's ``step``
    columns, for the first ``nodes`` nodes. Column by column over whole rows: a
    reduction along an axis of a few columns costs ten times as much."""
    joined = values[:, 0 : nodes * step : step].copy()
    for column in range(1, step):
        join(joined, values[:, column : nodes * step : step], out=joined)
    return joined


@dataclass(frozen=True)
class _Number:
    """The lower entry's start mark as a boundary's path sees it: the nodes across the
    key column and the mark's top row (normalised frame)."""

    nodes: tuple[int, int]
    top: float

    @classmethod
    def of(cls, found: KeyedEntries, band: Band, work_scale: float, step: int) -> _Number | None:
        if band.mark_top is None:
            return None
        across = step * work_scale  # normalised pixels per node
        first = max(0, int((found.key[0] - found.left) // across))
        last = max(first, int(np.ceil((found.key[1] - found.left) / across)))
        # The mark was found on the working copy: half its pixel above its top row.
        return cls((first, last), band.mark_top - NUMBER_CLEAR)


def _paths(detours: list[_Detour], step: int) -> list[NDArray[np.intp]]:
    """The least-cost path of each detour from the table's left to its right (a row
    index per node, moving at most ``step`` rows from node to node), all found
    together: one pass over the nodes for every boundary of the page."""
    if not detours:
        return []
    costs = [detour.cost() for detour in detours]
    nodes, height = costs[0].shape[0], max(cost.shape[1] for cost in costs)
    stacked = np.full((nodes, height, len(costs)), BLOCKED, np.float32)
    for column, cost in enumerate(costs):
        stacked[:, : cost.shape[1], column] = cost
    near = np.ones((3, 1), np.uint8)
    reach = np.ones((2 * step + 1, 1), np.uint8)
    totals = np.empty_like(stacked)  # (node, row, boundary): cheapest cost to there
    totals[0] = stacked[0]
    for node in range(1, nodes):
        before = totals[node - 1]
        glide = cv2.erode(before, near, borderType=cv2.BORDER_REPLICATE)
        jump = cv2.erode(before, reach, borderType=cv2.BORDER_REPLICATE) + SEAM_JUMP
        totals[node] = np.minimum(glide, jump).reshape(height, -1) + stacked[node]
    moves = np.arange(-step, step + 1)[:, None]
    # what each move costs; between equally cheap ones, the straightest
    tie = np.where(np.abs(moves) > 1, SEAM_JUMP, 0.0) + SEAM_TIE * np.abs(moves)
    every = np.arange(len(costs))[None, :]
    paths = np.empty((nodes, len(costs)), np.intp)
    at = np.argmin(totals[-1], axis=0)
    for node in range(nodes - 1, -1, -1):
        paths[node] = at
        if node:
            rows = at[None, :] + moves
            values = totals[node - 1][np.clip(rows, 0, height - 1), every] + tie
            values[(rows < 0) | (rows >= height)] = np.inf
            at = rows[np.argmin(values, axis=0), every[0]]
    return [paths[:, column] for column in range(len(costs))]


def _boundary(
    rgb: NDArray[np.uint8],
    back: tuple[geo.Matrix, Bend | None],
    found: KeyedEntries,
    band: Band,
    scales: tuple[float, float],
    step: int,
) -> tuple[float, _Detour | None] | None:
    """The row (normalised frame, at the table's centre column) of the boundary
    between the lines ``band.top_between`` names and what a path round the writing
    is found from (None: it stays straight; ``step``: capture columns per node of
    it); None when the lines are too close to tell apart. ``scales``: normalised
    pixels per capture pixel, and the capture's dpi."""
    assert band.top_between is not None
    work_scale, dpi = scales
    upper, lower = band.top_between
    reach = BODY_REACH * found.pitch
    if lower - upper < 2 * reach:
        return None
    strip = _strip(rgb, back, found, (upper - reach, lower + reach), work_scale)
    dark = _darkness(strip, dpi)
    profile = dark.mean(axis=1)
    rows = upper - reach + np.arange(profile.size) * work_scale
    top, bottom = _body(rows, profile, upper, reach), _body(rows, profile, lower, reach)
    middle = (top + bottom) / 2 - LIFT * found.pitch
    margin = BODY_MARGIN * found.pitch
    between = (rows > top + margin) & (rows < bottom - margin)
    if between.sum() < 3:
        return middle, None
    number = _Number.of(found, band, work_scale, step)
    ruled = _rule_between(dark[between], found.pitch / work_scale)
    line_rows = None if ruled is None else rows[between][0] + ruled * work_scale
    clear = RULE_CLEAR * found.pitch
    if line_rows is not None and top + clear <= np.median(line_rows) <= bottom - clear:
        # A rule across the table in the paper between the two lines is the boundary
        # a person sees (a register ruled row by row, a printed form): the cut follows
        # it, within RULE_BAND of the straight line fitted through it. (A ruling the
        # writing sits on lies at the edge of its line's body: no boundary.)
        chosen = float(np.median(line_rows))
        off_line = np.abs(rows[:, None] - line_rows[None, :])
        # Along the rule's ink, its lightness; across the gaps between its dashes, the
        # fitted line (a faded rule's gaps are longer than its dashes).
        lightness = np.maximum(0.0, float(dark.max()) - dark)
        cost = lightness + RULE_FOLLOW * off_line / found.pitch
        follow = np.where(off_line <= RULE_BAND * found.pitch, cost, BLOCKED)
        along = np.asarray(follow, np.float32)
        return chosen, _Detour.of(_Sides(along), rows, between, chosen, found.pitch, step, number)
    size = max(1, round(0.04 * found.pitch / work_scale)) | 1
    # Lines of writing are read without the rules among them (a rule closing an act
    # under its names column is no continuation row).
    rules = _rule_pixels(dark, dpi)
    written = np.where(rules, 0.0, dark).mean(axis=1)
    smooth = np.convolve(written, np.ones(size) / size, mode="same")[between]
    least, most = float(smooth.min()), float(smooth.max())
    near = smooth <= least + NEAR_LEAST * (most - least)
    # A line of writing between the two (a row the working copy missed) belongs to the
    # entry above, which the lower line's mark starts: the boundary goes in the gap
    # just below it, or in the valley under it when it is squeezed against the lower
    # line.
    line = least + MIDDLE_LINE * (most - least)
    below_line = _gap_below_middle_line(
        smooth, near, line, MIDDLE_LINE_HEIGHT * found.pitch / work_scale
    )
    tall = CRAMPED_TALL * found.pitch / work_scale
    valley = None if below_line is not None else _valley_below_cramped_line(smooth, line, tall)
    if below_line is not None:
        gap, peak = below_line
        chosen = float(rows[between][gap].mean())
    elif valley is not None:
        below, peak = valley
        chosen = float(rows[between][below])
    else:
        chosen = _inside_nearest_gap(rows[between], smooth, near, middle, GAP_INSET * found.pitch)
        # The path round the writing may take any row between the two bodies' centres:
        # a superscript or a capital rising into the margin above the lower body is
        # passed over, not cut through at its top.
        reachable = (rows > top) & (rows < bottom)
        sides = _sided(dark, rules, rows, reachable, chosen, found.pitch, beyond=True)
        return chosen, _Detour.of(sides, rows, reachable, chosen, found.pitch, step, number)
    # The path stays under the middle line's densest row, and may rise that far from
    # where the boundary goes: the next line's ascenders reach into the gap's top where
    # the middle line's descenders leave room beside them.
    free = between & (rows > rows[between][peak])
    # The rows beyond stay closed here: opened, they changed no figure of
    # bench/real_pages.py.
    sides = _sided(dark, rules, rows, free, chosen, found.pitch)
    return chosen, _Detour.of(sides, rows, free, chosen, found.pitch, step, number)


@dataclass(frozen=True)
class _Sides:
    """What a boundary's path pays to cross each cell of its strip: along a rule, the
    rule's lightness; between lines of writing, the writing sided to the two lines
    (:func:`_sided`): the darkness with each piece costly to pass on its wrong side,
    what passing close over the lower line's writing or right under the upper line's
    costs (:data:`CLEAR_COST`, :data:`CLEAR_UNDER`; None: nothing) and the cells beyond
    the rows the path may take that it may take too (None: none)."""

    costs: NDArray[np.float32]
    near: NDArray[np.float32] | None = None
    opened: NDArray[np.bool_] | None = None


def _sided(
    dark: NDArray[np.float32], rules: NDArray[np.bool_], rows: NDArray[np.float64],
    free: NDArray[np.bool_], chosen: float, pitch: float, beyond: bool = False,
) -> _Sides:  # fmt: skip
    """``dark`` with each piece of writing (a connected stroke, rules left out) made as
    costly to pass on the wrong side as to cross. A piece whose darkness-weighted mean
    row lies above the straight boundary (``chosen``; ``rows`` and ``pitch`` in the
    normalised frame) is the upper line's: in each of its columns, every row above its
    lowest pixel there costs at least what the darkest of its pixels at or below that
    row does, so the path passes under it or crosses it, never dips into it; a piece
    whose mean row lies below is the lower line's, and the path passes over it the
    same way. Without this the path crossed a letter where its ink was thinnest: under
    a ``t``'s bar and down through its stem, which left the top of the lower line's
    word above the cut (``rep_randomset2_2674_L-1``).

    A small piece lying wholly among the rows the path may take (``free``, one run of
    rows; under ``SIDE_SMALL`` pitch high: a decimal point, a dot) keeps its own
    darkness only: the path goes round it on the cheaper side, or crosses it. Rules
    across (``rules``, :func:`_rule_pixels`) and down the table (``SIDE_RULE``) would
    join both lines' writing into one piece; they are left out.

    Returned with it: what passing close over the lower line's pieces (or right under
    the upper line's) costs, and when ``beyond``, the cells past ``free`` the path may
    take too (:func:`_blank_beyond`)."""
    free_rows = np.flatnonzero(free)
    if free_rows.size < 2 or dark.size == 0:
        return _Sides(dark)
    inked = (dark > SIDE_INK).astype(np.uint8)
    down = max(3, round(SIDE_RULE * dark.shape[0]))
    ruled = cv2.morphologyEx(inked, cv2.MORPH_CLOSE, np.ones((5, 1), np.uint8))
    ruled = cv2.dilate(ruled, np.ones((1, 3), np.uint8))
    ruled = cv2.morphologyEx(ruled, cv2.MORPH_OPEN, np.ones((down, 1), np.uint8))
    inked[rules | (cv2.dilate(ruled, np.ones((3, 3), np.uint8)) > 0)] = 0
    count, labels, stats, _ = cv2.connectedComponentsWithStats(inked, connectivity=8)
    if count < 2:
        return _Sides(dark)
    # Sums over the pieces' pixels only: most of the strip is paper (label 0).
    inside = np.flatnonzero(labels)
    pieces, weight = labels.ravel()[inside], dark.ravel()[inside].astype(np.float64)
    at = rows[inside // labels.shape[1]]
    mass = np.bincount(pieces, weights=weight, minlength=count)
    moment = np.bincount(pieces, weights=weight * at, minlength=count)
    centre = moment / np.maximum(mass, 1e-9)
    tops = stats[:, cv2.CC_STAT_TOP]
    tall = stats[:, cv2.CC_STAT_HEIGHT]
    floating = (tops >= free_rows[0]) & (tops + tall - 1 <= free_rows[-1])
    spacing = float(rows[1] - rows[0])
    small = tall * spacing < SIDE_SMALL * pitch
    sided = ~(floating & small)
    sided[0] = False
    upper = centre < chosen
    _side_by_neighbour(stats, sided, upper, pitch / spacing)
    up = np.where((sided & upper)[labels], dark, 0.0)
    low = np.where((sided & ~upper)[labels], dark, 0.0)
    up_fill = np.maximum.accumulate(up[::-1], axis=0)[::-1]
    low_fill = np.maximum.accumulate(low, axis=0)
    out = np.asarray(np.maximum(dark, np.maximum(up_fill, low_fill)), np.float32)
    # How far each cell lies from the lower line's writing, in the strip's rows.
    away = cv2.distanceTransform((low == 0).astype(np.uint8), cv2.DIST_L2, 3)
    reach = CLEAR_REACH * pitch / spacing
    near = np.asarray(CLEAR_COST * np.clip(1.0 - away / reach, 0.0, 1.0), np.float32)
    size = 2 * CLEAR_UNDER + 1
    under = cv2.dilate((up > 0).astype(np.uint8), np.ones((size, size), np.uint8)) > 0
    near[under] = CLEAR_COST
    if not beyond:
        return _Sides(out, near)
    return _Sides(out, near, _blank_beyond(
        labels.shape,
        stats,
        sided & (tall * spacing >= OPEN_TALL * pitch),
        upper,
        free_rows,
        pitch / spacing,
    ))  # fmt: skip


def _side_by_neighbour(
    stats: NDArray[np.int32], sided: NDArray[np.bool_], upper: NDArray[np.bool_], pitch: float
) -> None:
    """Give each unsided dash (``sided`` False, the paper aside; ``DASH_WIDE``,
    ``DASH_LONG``) the side of the nearest sided piece it lies level with (its middle
    row within that piece's rows) at most ``SIDE_BESIDE`` across; ``pitch`` in strip
    pixels, ``sided`` and ``upper`` updated in place. A dot, an accent or a speck keeps
    the path's own choice."""
    neighbours = np.flatnonzero(sided)
    if neighbours.size == 0:
        return
    left, top = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
    width, height = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    right, bottom = left + width, top + height
    dashes = (width >= DASH_WIDE * height) & (width >= DASH_LONG * pitch)
    dashes[0] = False  # the paper
    for piece in np.flatnonzero(~sided & dashes):
        middle = (top[piece] + bottom[piece]) / 2
        level = (top[neighbours] <= middle) & (middle <= bottom[neighbours])
        apart = np.maximum(left[neighbours] - right[piece], left[piece] - right[neighbours])
        apart = np.where(level, np.maximum(apart, 0), np.inf)
        nearest = int(np.argmin(apart))
        if apart[nearest] <= SIDE_BESIDE * pitch:
            upper[piece] = upper[neighbours[nearest]]
            sided[piece] = True


def _blank_beyond(
    shape: tuple[int, ...], stats: NDArray[np.int32], writing: NDArray[np.bool_],
    upper: NDArray[np.bool_], free_rows: NDArray[np.intp], pitch: float,
) -> NDArray[np.bool_]:  # fmt: skip
    """The cells beyond the rows the path may take (``free_rows``) that it may take
    too: above them where the upper line has no piece of ``writing`` within
    :data:`OPEN_WIDE` of the column, below them where the lower line has none
    (``stats``: the strip's pieces, as ``connectedComponentsWithStats`` gives them,
    in a strip of ``shape``; ``upper``: which are the upper line's; ``pitch`` in the
    strip's rows)."""
    wide = max(1, round(OPEN_WIDE * pitch))
    kernel = np.ones((1, 2 * wide + 1), np.uint8)
    index = np.arange(shape[0])
    opened = np.zeros(shape, bool)
    lefts = stats[:, cv2.CC_STAT_LEFT]
    rights = lefts + stats[:, cv2.CC_STAT_WIDTH]
    for side, beyond in (
        (writing & upper, index < free_rows[0]),
        (writing & ~upper, index > free_rows[-1]),
    ):
        # The columns a piece holds pixels in are its box's: an 8-connected piece
        # steps at most one column at a time, so it leaves none between out.
        change = np.zeros(shape[1] + 1, np.int32)
        np.add.at(change, lefts[side], 1)
        np.add.at(change, rights[side], -1)
        inked = np.asarray(np.cumsum(change[:-1]) > 0, np.uint8).reshape(1, -1)
        written = np.asarray(cv2.dilate(inked, kernel)).ravel() > 0
        opened |= beyond[:, None] & ~written[None, :]
    return opened


def _rule_between(dark: NDArray[np.float32], pitch: float) -> NDArray[np.float64] | None:
    """The row (index into ``dark``'s rows) of a rule drawn across the table, per
    column, fitted through the densest row of each of ``RULE_CHUNKS`` stretches
    across; None when no such rule lies between the lines."""
    height, width = dark.shape
    chunks = RULE_CHUNKS
    if width < chunks * 4 or height < 3:
        return None
    inked = cv2.dilate((dark > RULE_INK).astype(np.uint8), np.ones((5, 1), np.uint8)) > 0
    off = max(3, round(RULE_THIN * pitch))
    edges = np.linspace(0, width, chunks + 1).astype(int)
    centres, peaks, covers = [], [], []
    for a, b in itertools.pairwise(edges):
        cover = inked[:, a:b].mean(axis=1)
        # a rule is thin: its row's cover at least twice that a little above and below
        padded = np.pad(cover, off, mode="edge")
        beside = np.maximum(padded[:height], padded[2 * off :])
        thin = np.where(cover >= 2 * beside, cover, 0.0)
        at = int(np.argmax(thin))
        centres.append((a + b) / 2)
        peaks.append(at)
        covers.append(float(thin[at]))
    centres_a, peaks_a, covers_a = np.array(centres), np.array(peaks, float), np.array(covers)
    strong = covers_a >= RULE_COVER
    if strong.sum() < RULE_SPAN * chunks:
        return None
    fit = np.polyfit(centres_a[strong], peaks_a[strong], 1)
    residual = np.abs(np.polyval(fit, centres_a[strong]) - peaks_a[strong])
    keep = residual <= RULE_BAND * pitch
    if keep.sum() < RULE_SPAN * chunks:
        return None
    fit = np.polyfit(centres_a[strong][keep], peaks_a[strong][keep], 1)
    return np.polyval(fit, np.arange(width) + 0.5)


def _rule_pixels(dark: NDArray[np.float32], dpi: float) -> NDArray[np.bool_]:
    """The pixels of rules in the strip: ink in a horizontal run of ``RULE_RUN_IN`` or
    more (gaps of 0.02 inch closed), widened by a pixel."""
    inked = (dark > RULE_INK).astype(np.uint8)
    gap = max(2, round(0.02 * dpi))
    run = max(15, round(RULE_RUN_IN * dpi))
    closed = cv2.morphologyEx(inked, cv2.MORPH_CLOSE, np.ones((1, gap), np.uint8))
    rules = cv2.morphologyEx(closed, cv2.MORPH_OPEN, np.ones((1, run), np.uint8))
    return np.asarray(cv2.dilate(rules & inked, np.ones((3, 3), np.uint8)) > 0)


def _inside_nearest_gap(
    rows: NDArray[np.float64], smooth: NDArray[np.float64], near: NDArray[np.bool_],
    target: float, inset: float,
) -> float:  # fmt: skip
    """``target`` moved into the cleanest run of ``near`` rows (the nearest to it of
    those within ``GAP_CLEANER`` of the cleanest), at least ``inset`` (or half the
    run) inside its edges: on the paper between two lines, not among the tips of the
    upper line's descenders that a dense script leaves near the least."""
    runs = runs_of(near)
    ink = [float(smooth[start:end].mean()) for start, end in runs]
    clean = min(ink) + GAP_CLEANER * float(smooth.max() - smooth.min())
    places = []
    for (start, end), level in zip(runs, ink, strict=True):
        if level <= clean:
            low, high = float(rows[start]), float(rows[end - 1])
            edge = min(inset, (high - low) / 2)
            places.append(min(max(target, low + edge), high - edge))
    return min(places, key=lambda at: abs(at - target))


def _gap_below_middle_line(
    smooth: NDArray[np.float64], near: NDArray[np.bool_], line: float, tall: float
) -> tuple[NDArray[np.intp], int] | None:
    """The rows of the gap under the lowest run of ink that lies between two gaps
    (``near``), reaches ``line`` and is at least ``tall`` rows high (a rule drawn
    under one column is thinner), and that run's densest row; None when there is no
    such run."""
    gaps = runs_of(near)
    for start, end in reversed(runs_of(~near)):
        below = next((gap for gap in gaps if gap[0] == end), None)
        if below is None or start == 0 or end - start < tall or smooth[start:end].max() < line:
            continue
        return np.arange(*below), start + int(np.argmax(smooth[start:end]))
    return None


def _valley_below_cramped_line(
    smooth: NDArray[np.float64], line: float, tall: float
) -> tuple[int, int] | None:
    """The valley under the lowest bump of ink reaching ``line`` that stands out of
    the valleys either side of it by CRAMPED_DIP of its height and is ``tall`` rows
    wide (above the higher valley plus a quarter of its prominence), and the bump's
    peak; None when there is none."""
    size = smooth.size
    if size < 5:
        return None
    peaks = [
        i for i in range(1, size - 1)
        if smooth[i] >= smooth[i - 1] and smooth[i] > smooth[i + 1] and smooth[i] >= line
    ]  # fmt: skip
    for peak in reversed(peaks):
        height = float(smooth[peak])
        below = peak + int(np.argmin(smooth[peak:]))
        above = int(np.argmin(smooth[: peak + 1]))
        if below >= size - 1:
            continue
        floor = max(float(smooth[below]), float(smooth[above]))
        if floor > height * (1 - CRAMPED_DIP):
            continue
        level = floor + 0.25 * (height - floor)
        wide = smooth[above:below] > level
        run = next(((a, b) for a, b in runs_of(wide) if a <= peak - above < b), None)
        if run is None or run[1] - run[0] < tall:
            continue
        return below, peak
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
    the table's centre column), across the table, one sample per capture pixel.

    Sampled :data:`STRIP_POINTS` points at a time: the maps of a tall strip (two lines
    far apart, across a 42-megapixel photo's table: 1,480 x 3,640) took 700 MB in
    float64 coordinates and their copies."""
    xs = np.arange(found.left, found.right, work_scale)
    offsets = np.arange(rows[0], rows[1], work_scale)
    matrix, bend = back
    step = max(1, STRIP_POINTS // max(1, xs.size))
    parts = []
    for start in range(0, offsets.size, step):
        grid_x, grid_y = np.meshgrid(xs, offsets[start : start + step])
        grid_y = found.edge(grid_y, grid_x)
        mapped = geo.apply(matrix, np.stack([grid_x.ravel(), grid_y.ravel()], axis=1))
        if bend is not None:
            mapped = bend.to_capture(mapped)
        map_x = np.ascontiguousarray(mapped[:, 0].reshape(grid_x.shape), np.float32)
        map_y = np.ascontiguousarray(mapped[:, 1].reshape(grid_x.shape), np.float32)
        sampled = cv2.remap(rgb, map_x, map_y, cv2.INTER_LINEAR, borderValue=(255, 255, 255))
        channels = cv2.split(np.asarray(sampled, np.uint8))
        parts.append(cv2.min(cv2.min(channels[0], channels[1]), channels[2]))
    if not parts:
        return np.zeros((0, xs.size), np.uint8)
    return np.ascontiguousarray(np.vstack(parts), np.uint8)


def _darkness(strip: NDArray[np.uint8], dpi: float) -> NDArray[np.float32]:
    """How far each pixel falls under :data:`INK_RATIO` of its local paper (strokes
    closed by a grey dilation, then blurred)."""
    stroke = max(3, round(dpi * 0.05)) | 1
    paper = cv2.dilate(strip, np.ones((stroke, stroke), np.uint8))
    paper = np.asarray(cv2.blur(paper, (4 * stroke + 1, 4 * stroke + 1)), np.float32)
    ratio = strip.astype(np.float32) / np.maximum(paper, 1.0)
    return np.asarray(np.clip(INK_RATIO - ratio, 0.0, None), np.float32)
