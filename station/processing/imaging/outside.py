"""Ink outside every entry: where each piece is and why it is in no file.

Every piece of ink on a page is either inside an entry's region or reported here with
its reason, so no content is lost without a word. Pure functions of the normalised
page (:mod:`station.processing.imaging.normalise`) and the regions
:mod:`station.processing.imaging.segment` proposed on it.

The ink of the normalised page (border blanked) less the regions' outlines is grouped
into pieces (letters closed into words and lines); a piece that straddles a region's
edge counts only with its part outside. Each piece gets one reason, judged against
the table the regions of its page side span:

- ``page_edge``: straight lines (the edges of a page stack, the film, the cover or a
  table rule left out), long thin strokes, or ink touching the page's outline: no
  content;
- ``header``: above the first entry, across the table's width: the page title, the
  column headings, a month heading;
- ``below``: under the last entry, across the table's width (``segment`` flags it
  ``ink_below_entries``);
- ``between``: within the table's span, between two entries;
- ``margin``: beside the table (marginal notes, the other page of an uncut spread);
- ``blank_page``: on a page of the image that holds no writing, from which no entry
  was cut (its heading, rules and stray marks; ``segment`` flags it ``blank_page``,
  which sends it to a person, so it does not raise :data:`OUTSIDE_FLAG` as well).

``below``, ``between`` and ``margin`` together over :data:`FLAG_SHARE` of the page's ink
flag the page :data:`OUTSIDE_FLAG`: content no file holds.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from station.processing.imaging import geometry as geo
from station.processing.imaging import normalise as nm

log = logging.getLogger(__name__)

#: Ink outside every entry that is no header nor page edge: a person takes it in.
OUTSIDE_FLAG = "ink_outside_entries"
#: Reasons ink lies outside every entry, in the order reports list them.
REASONS = ("header", "page_edge", "below", "between", "margin", "blank_page")
#: Ink within this distance of a spread's fold (inches), all of it, is the fold's
#: shadow and crease: the page's edge, not a note in its margin.
FOLD_REACH_IN = 0.3
#: Reasons that name content no file holds (the others are the page's own furniture).
CONTENT_REASONS = frozenset({"below", "between", "margin"})
#: Reasons that raise :data:`OUTSIDE_FLAG`: every piece of content in no file
#: (``below`` also has its own flag, on the page's dark ink over 0.5%).
FLAGGED_REASONS = CONTENT_REASONS
#: Share of the page's ink outside every entry (``below``, ``between``, ``margin``) over
#: which the page is flagged. Simulated pages that lose nothing stay at 0.09% or less, the
#: real tuning pages at 0.12% or less; a three-line note in the margin of a simulated
#: page is 0.28-0.78% (a spread holds twice the ink: 0.01-0.35%).
FLAG_SHARE = 0.0025
#: Flattened level under which a pixel of the small copy is ink to account for.
CONTENT_LEVEL = 190
#: Letters closer than this (inches) along a line are one piece: a word, a line ...
GROUP_IN = 0.12
#: ... and lines closer than this (inches): a note, not a chain of specks down a page.
GROUP_DOWN_IN = 0.04
#: Straight runs this long (inches) are a rule or an edge, not script.
LINE_IN = 0.5
#: A piece longer than this many times its width, and over ``LINE_IN``, is a page edge ...
THIN_RATIO = 8.0
#: ... as is one this many times taller than wide (what is left between the edges of a
#: stack of leaves once their straight runs are taken out).
TALL_RATIO = 3.0
#: A piece running off the page's outline no wider than this (inches) is its edge.
EDGE_WIDTH_IN = 0.6
#: Ink this close (inches) to the table's top or bottom still counts as its own row.
NEAR_IN = 0.08
#: A piece is reported when it holds at least this share of the page's ink (specks are
#: counted in the totals but not listed one by one).
LIST_SHARE = 0.0005
#: At most this many pieces are listed, largest first: the page's record travels in
#: every entry's PDF.
MAX_LISTED = 24

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class OutsidePiece:
    """Ink outside every entry: why, its share of the page's ink, and where.

    ``box`` is (left, top, right, bottom) in the decoded capture's pixels (EXIF
    orientation applied), the grid regions are proposed in.
    """

    reason: str
    share: float
    box: Box

    def to_dict(self) -> dict[str, object]:
        return {"reason": self.reason, "share": round(self.share, 5), "box": list(self.box)}


@dataclass(frozen=True)
class Accounting:
    """A page's ink against its regions: the pieces outside, and the shares by reason."""

    pieces: list[OutsidePiece]
    shares: dict[str, float]  # reason -> share of the page's ink, specks included
    inside: float  # share of the page's ink inside at least one region

    @property
    def flagged_share(self) -> float:
        """The share of the page's ink that raises :data:`OUTSIDE_FLAG`."""
        return sum(self.shares.get(r, 0.0) for r in FLAGGED_REASONS)

    @property
    def flagged_reasons(self) -> list[str]:
        """The reasons behind :attr:`flagged_share`, largest first."""
        found = [r for r in FLAGGED_REASONS if self.shares.get(r, 0.0) > 0]
        return sorted(found, key=lambda r: -self.shares[r])


@dataclass(frozen=True)
class _Table:
    """The span of one page side's regions in the normalised frame."""

    left: float
    top: float
    right: float
    bottom: float


def content_ink(norm: nm.Normalised) -> nm.Gray:
    """The ink accounted for: darker than ``CONTENT_LEVEL`` in the flattened red or
    darkest channel (thin and pale writing too, which the page's ink level of 150 on
    the small copy misses), the page's border left out as segmentation does."""
    darkest = cv2.min(norm.flat, norm.writing)
    ink = nm.u8(cv2.threshold(darkest, CONTENT_LEVEL, 255, cv2.THRESH_BINARY_INV)[1])
    border = max(3, round(min(ink.shape) * 0.02))
    ink[:border], ink[-border:], ink[:, :border], ink[:, -border:] = 0, 0, 0, 0
    return ink


def account(
    norm: nm.Normalised,
    ink: nm.Gray,
    outlines: Sequence[tuple[int, NDArray[np.float64]]],
    work_dpi: float,
    fold: float | None = None,
    blank: Sequence[tuple[float, float]] = (),
) -> Accounting:
    """The ink of ``ink`` (the normalised page's, border blanked) outside every region.

    ``outlines``: each region's page side and its outline in the normalised frame;
    ``fold``: the column of a spread's fold, whose shadow is the page's edge too;
    ``blank``: the columns (left, right) of the pages that hold no writing.
    """
    total = cv2.countNonZero(ink)
    if not total:
        return Accounting([], {}, 0.0)
    covered = np.zeros(ink.shape, np.uint8)
    for _, outline in outlines:
        cv2.fillPoly(covered, [np.round(outline).astype(np.int32)], 255)
    outside = nm.u8(cv2.bitwise_and(ink, cv2.bitwise_not(covered)))
    inside = 1.0 - cv2.countNonZero(outside) / total
    tables = _tables(outlines)
    if not cv2.countNonZero(outside):
        return Accounting([], {}, inside)
    # Straight runs are rules and edges, never content: taken out before grouping, so
    # a rule cannot glue a line of writing to the page's edge.
    lines = cv2.bitwise_and(
        cv2.dilate(_lines(outside, work_dpi), np.ones((3, 3), np.uint8)), outside
    )
    outside = nm.u8(cv2.subtract(outside, lines))
    # Above a table is its header, pixel by pixel: grouped apart, so a title cannot
    # chain down the page's edge into a piece that reads as content.
    zone = np.zeros(ink.shape, np.uint8)
    for table in tables:
        bottom = round(table.top + NEAR_IN * work_dpi)
        cv2.rectangle(zone, (round(table.left), 0), (round(table.right), bottom), 255, -1)
    parts = (
        (cv2.bitwise_and(lines, zone), "header"),  # the rules of the column headings
        (cv2.subtract(lines, zone), "page_edge"),  # rules and edges beside the table
        (cv2.bitwise_and(outside, zone), "above"),
        (cv2.subtract(outside, zone), ""),
    )
    shares: dict[str, float] = {}
    pieces = []
    for part, known in parts:
        for piece, count in _group(nm.u8(part), work_dpi):
            reason = _reason(piece, tables, work_dpi, known, fold, blank)
            share = count / total
            shares[reason] = shares.get(reason, 0.0) + share
            if share >= LIST_SHARE:
                pieces.append(OutsidePiece(reason, share, _capture_box(norm, piece.box)))
    pieces.sort(key=lambda p: -p.share)
    return Accounting(pieces[:MAX_LISTED], shares, inside)


def _group(ink: nm.Gray, work_dpi: float) -> list[tuple[_Piece, int]]:
    """The pieces of ``ink`` (letters closed into words and lines), each with its
    count of ink pixels."""
    if not cv2.countNonZero(ink):
        return []
    across = max(3, round(GROUP_IN * work_dpi)) | 1
    down = max(3, round(GROUP_DOWN_IN * work_dpi)) | 1
    grouped = cv2.dilate(ink, np.ones((down, across), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(grouped, connectivity=8)
    on = ink > 0
    ink_of = np.bincount(labels[on], minlength=count)
    edge_of = np.bincount(labels[on & (_rim(ink.shape) > 0)], minlength=count)
    found = []
    for label in range(1, count):
        if ink_of[label]:
            x, y, w, h = (int(v) for v in stats[label, :4])
            found.append((_Piece((x, y, x + w, y + h), bool(edge_of[label])), int(ink_of[label])))
    return found


def _tables(outlines: Sequence[tuple[int, NDArray[np.float64]]]) -> list[_Table]:
    sides: dict[int, list[NDArray[np.float64]]] = {}
    for side, outline in outlines:
        sides.setdefault(side, []).append(outline)
    tables = []
    for found in sides.values():
        points = np.vstack(found)
        tables.append(
            _Table(
                float(points[:, 0].min()),
                float(points[:, 1].min()),
                float(points[:, 0].max()),
                float(points[:, 1].max()),
            )
        )
    return tables


def _lines(ink: nm.Gray, work_dpi: float) -> nm.Gray:
    """Straight horizontal and vertical runs of ``ink``, ``LINE_IN`` long or more."""
    run = max(9, round(LINE_IN * work_dpi))
    return nm.u8(
        cv2.bitwise_or(
            cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, run), np.uint8)),
            cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((run, 1), np.uint8)),
        )
    )


def _rim(shape: tuple[int, ...]) -> nm.Gray:
    """A thin ring just inside the page's blanked border (see :func:`content_ink`):
    ink there runs off the page's outline."""
    rim = np.zeros(shape[:2], np.uint8)
    border = max(3, round(min(shape[:2]) * 0.02))
    cv2.rectangle(rim, (border, border), (shape[1] - border - 1, shape[0] - border - 1), 255, 3)
    return rim


@dataclass(frozen=True)
class _Piece:
    """A group of writing outside every region: its box (normalised frame) and whether
    it runs off the page's outline."""

    box: Box
    at_edge: bool


def _reason(
    piece: _Piece,
    tables: Sequence[_Table],
    work_dpi: float,
    known: str,
    fold: float | None = None,
    blank: Sequence[tuple[float, float]] = (),
) -> str:
    """Why ``piece`` lies outside every entry. ``known``: the reason its part of the
    page gives ("above": above a table; "": none); ``fold``: a spread's fold column;
    ``blank``: the columns of the pages that hold no writing."""
    if known not in ("above", ""):
        return known
    left, top, right, bottom = piece.box
    reach = FOLD_REACH_IN * work_dpi
    if fold is not None and fold - reach <= left and right <= fold + reach:
        return "page_edge"  # the fold's shadow and crease, between the two pages
    width, height = right - left, bottom - top
    long, short = max(width, height), max(1, min(width, height))
    if piece.at_edge and short <= EDGE_WIDTH_IN * work_dpi:
        return "page_edge"  # a strip along the outline: page stack, cover, film edge
    if known == "above":
        return "header"
    centre = (left + right) / 2
    table = next((t for t in tables if t.left <= centre <= t.right), None)
    near = NEAR_IN * work_dpi
    if table is not None and (top + bottom) / 2 <= table.top + near:
        return "header"  # the rules of the column headings are theirs too
    if long >= LINE_IN * work_dpi and long / short >= THIN_RATIO:
        return "page_edge"
    if height >= LINE_IN * work_dpi and height >= TALL_RATIO * width:
        return "page_edge"  # writing runs across an upright page: this is the edge of leaves
    if any(low <= centre <= high for low, high in blank):
        return "blank_page"
    if table is None:
        return "margin"
    if top >= table.bottom - near:
        return "below"
    return "between"


def _capture_box(norm: nm.Normalised, box: Box) -> Box:
    """``box`` of the normalised frame as a box around it in capture pixels (where the
    capture shows it: on a dewarped page its edges bow, so points along them count)."""
    left, top, right, bottom = box
    if norm.bend is None:
        outline = [[left, top], [right, top], [right, bottom], [left, bottom]]
    else:
        xs, ys = np.linspace(left, right, 9), np.linspace(top, bottom, 9)
        outline = [[x, y] for x in xs for y in (top, bottom)]
        outline += [[x, y] for y in ys for x in (left, right)]
    corners = norm.to_source(np.array(outline, np.float64))
    return (
        int(np.floor(corners[:, 0].min())),
        int(np.floor(corners[:, 1].min())),
        int(np.ceil(corners[:, 0].max())),
        int(np.ceil(corners[:, 1].max())),
    )


def account_page(
    norm: nm.Normalised,
    regions: Sequence[tuple[int, NDArray[np.float64]]],
    work_dpi: float,
    fold: float | None = None,
    blank: Sequence[tuple[float, float]] = (),
) -> Accounting:
    """:func:`account` for the page ``norm`` and its regions (page side, outline in
    capture pixels); ``fold``: a spread's gutter column in the normalised frame;
    ``blank``: the columns of its pages that hold no writing."""
    outlines = [(side, geo.apply(norm.matrix, polygon)) for side, polygon in regions]
    return account(norm, content_ink(norm), outlines, work_dpi, fold, blank)


def details(
    accounting: Accounting, expected: tuple[int, int], counts: Sequence[int], flags: set[str]
) -> dict[str, dict[str, str]]:
    """The figures the raised ``flags`` say (see ``core.flagtext``): entries expected
    a page (``expected``: least and most) and found on each page of the image
    (``counts``); the share of the ink outside every entry and why."""
    found: dict[str, dict[str, str]] = {}
    if "count_mismatch" in flags:
        low, high = expected
        range_ = str(low) if low == high else f"{low}-{high}"
        found["count_mismatch"] = {"expected": range_, "found": " + ".join(map(str, counts))}
    if OUTSIDE_FLAG in flags:
        share = f"{100 * accounting.flagged_share:.1f}"
        found[OUTSIDE_FLAG] = {"share": share, "reason": ",".join(accounting.flagged_reasons)}
    return found
