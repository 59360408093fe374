"""Entries from a page's own evidence: its text rows and the column where entries start.

Real registers rarely rule a line across the page under each entry. What every one of
them does (the repertories of Paris notaries, Bronod's repertory, a Vietnamese sổ hộ
tịch with its "Số" column) is start each entry with something in the table's first
column: its number or its date, while the continuation rows of an entry leave that
column empty. So an entry is found as the rows from one *start mark* in that *key
column* down to the row before the next one.

Everything here works on the small normalised ink mask of one page (upright,
deskewed, about 100 dpi; :mod:`station.processing.imaging.normalise`):

1. ruled lines are taken out of the ink (long runs, after closing the gaps of dotted
   or faded rules), leaving the writing;
2. the key column is the table's first ruled column when it is narrow, else the first
   band of writing left of the first empty vertical channel;
3. start marks are the pieces of writing in the key column, merged per row; marks
   above the table's column headings (the lowest rule across the table near its top
   with marks below it) are headings, not entries;
4. a boundary lies between the densest rows of the line of a mark and of the last
   line of writing above it (:mod:`station.processing.imaging.boundaries` places it
   on the capture's own pixels, in the paper between them); the last entry ends
   with the last row of writing that follows it without a blank gap; writing above
   the first mark that fills more than one row is an entry continued from the
   previous page, a single row there is a heading.

The result is bands in the normalised frame; :mod:`station.processing.imaging.segment`
turns them into regions and decides between them and ruled bands.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import cv2
import numpy as np
from numpy.typing import NDArray

from station.processing.imaging import normalise as nm
from station.processing.imaging.normalise import Gray, u8

log = logging.getLogger(__name__)

#: A vertical rule spans at least this share of the page's height.
RULE_HEIGHT_SHARE = 0.25
#: A rule across the table spans at least this share of its width.
RULE_WIDTH_SHARE = 0.5
#: Column headings sit in this top share of the page.
HEADING_ZONE = 0.2
#: The key column is at most this share of the table's width.
KEY_WIDTH_SHARE = 0.22
#: Flattened level under which a pixel in the key column is writing: lighter than the
#: page's ink level, as numbers there are often small and faint (microfilm, old ink).
MARK_LEVEL = 200
#: A start mark is at most this many letters high (a number written with a flourish),
MARK_LETTERS = 4.5
#: or, in the key column, when it cannot be parted in two, this many times the median
#: height of the marks that are not (at least ``MARK_PEERS`` of them): a hand writes
#: its numbers about one height, while the page's letter height, a median of whole
#: pixels at the working copy's 100 dpi, moves by a pixel (a sixth) when the capture
#: is blurred (``rep_dufour1_07645_L-0`` blurred by 1.5 px: letters 7 -> 6 px, and
#: its last number, 28 px high with the tails of its 7s, was no mark).
MARK_PEER_TALL = 1.25
#: The most a page of a spread is measured turned against the normalised frame
#: (degrees; the writing of a page as a whole is sought within 0.75).
PAGE_TURN = 3.0
#: A mark lower than this many letters made only of pieces at least ``FLAT_PIECE``
#: times as wide as high is a dash of a rule, not a number.
FLAT_MARK = 0.75
FLAT_PIECE = 2.0
#: ... or slivers this many letters wide at most (what is left of a rule down the page).
SLIVER_LETTERS = 0.25
#: A mark too tall for one is parted at a row with under this share of its usual ink.
PART_SHARE = 0.75
#: A piece of ink more letters high than this is a rule, a frame's or a page's edge,
#: or a blot: no number, nor writing.
BLOT_LETTERS = 6
#: A mark under the last entry on a piece of ink across more than this share of the
#: table is the page's bottom edge (:func:`_edges`).
EDGE_SHARE = 0.5
#: ... and its usual row in the key column holds this many times the marks' median
#: (a number's rows hold a few strokes). Measured: 3.2 and 4.1 for the edges of
#: ``rep_randomset1_1444_L-1`` and ``rep_randomset2_2674_L-1``; numbers at most 2.0.
EDGE_FILL = 2.5
#: The range a pale page's own writing level (Otsu's) is kept in.
PALE_LEVELS = (150, 215)
#: When the ink mask already holds this share of the pixels under that level, the
#: level is the one between the page's dark print and all else, and is sought again
#: off the mask (:func:`_pale_writing`). The simulator's faded camera shot of a stacked
#: register: 188 over the whole page (its printed rules and headings), under which
#: none of its writing lay; 225 off them.
PALE_HELD = 0.5
#: A page with fewer letter-sized pieces of writing than this away from its sides is
#: blank (:attr:`Letters.written`). The blank left page of ``bronod1_0003`` holds 0-1
#: (15 in a darker capture, from what shows through the leaf); a page with two entries
#: 112-146.
BLANK_PIECES = 8
#: A page of a spread with fewer pieces than this, under this share as dark as the
#: facing page's writing, holds only what shows through its leaf (:class:`Letters`):
#: the darker capture of ``bronod1_0003``'s blank page, 15 pieces at 0.43.
SHOW_THROUGH_PIECES = 60
SHOW_THROUGH_SHARE = 0.6
#: Heights and widths (inches) of a letter-sized piece of writing: a letter to a word.
LETTER_PIECE_IN = (0.06, 0.4)
WORD_PIECE_IN = (0.03, 1.5)
#: Bands from marks must hold this share of the writing below the headings; else the
#: marks are not what this module takes them for, and the page goes whole to review.
MIN_HELD = 0.97
#: Rows of writing allowed between the headings and the first entry found.
MAX_HEADER_ROWS = 2
#: A page's writing spans at least this share of its width (less: a blank page).
MIN_SPAN_SHARE = 0.3
#: Blank rows (in row pitches) that end an entry's last block of writing.
END_GAP_PITCHES = 1.0
#: With at least ``MARK_PEERS`` marks in the key column, a mark lower than
#: ``MARK_LOW_SHARE`` of their median height is no number.
MARK_PEERS = 5
MARK_LOW_SHARE = 0.4
#: A mark beginning within a letter under the one before, its usual row of ink under
#: this share of that one's, is a stroke of it (:func:`_without_tails`). Measured on
#: ``bench/real_pages.py``: 0.25 to 0.5 drop the tails of the 5s of
#: ``rep_randomset2_2674_L-1`` and change no cut of the tuning images.
TAIL_SHARE = 0.4
#: A mark above the first entry whose band holds less writing than this share of the
#: bands' median starts no entry (:func:`_beside_writing`).
BESIDE_SHARE = 0.2
#: Writing in red ink (a rubric: a month heading, an ornament) darkens the red channel
#: under this share of the darkest channel's darkness; brown, black and blue ink
#: darken it 0.6 or more. Measured on ``bronod1_0003``'s red "Janvier 1742": 74% of
#: its band's writing under 0.5, 0-2% of any band of brown acts on Bronod's register.
RUBRIC_SHARE = 0.5
#: Darkness (flattened darkest channel, 0-255) under which a pixel's hue is not told.
RUBRIC_DARKNESS = 30
#: A gap between marks this many times their usual spacing is searched again at the
#: paler level for a mark missed (:func:`_missed_marks`), which needs this share of
#: the marks' median writing beside it.
MISSED_SPACINGS = 1.7
MISSED_LEVEL = 225
MISSED_BESIDE = 0.3
#: The least row pitch of writing (letters).
LEAST_PITCH = 1.5
#: A peak of the row profile's autocorrelation near half the period found, this share
#: as strong, is the rows' period (:func:`_period`).
HALF_PEAK = 0.5
#: Narrow ruled columns after the first that may be the key column instead.
KEY_RETRIES = 2
#: The column before the first rule found holds the numbers when its marks are at
#: least this share of the ruled column's marks' median height (:func:`_outweighs`).
KEY_TALL = 0.8


Column = TypeVar("Column", float, NDArray[np.float64])


@dataclass(frozen=True)
class Band:
    """One entry's rows: top and bottom in the normalised frame."""

    top: float
    bottom: float
    continued: bool = False  # the entry began on the previous page
    #: The densest rows of the lines the top edge separates (None: no writing above
    #: it): where a refinement at full resolution may move it.
    top_between: tuple[float, float] | None = None
    #: Where the top and bottom edges step around the writing: (column, rows off the
    #: straight edge) points across the table, normalised frame (None: straight). See
    #: :mod:`station.processing.imaging.boundaries`.
    top_path: tuple[tuple[float, float], ...] | None = None
    bottom_path: tuple[tuple[float, float], ...] | None = None
    #: The top of the entry's start mark in the key column (None: no mark starts it):
    #: the entry's own number, which its top edge never crosses.
    mark_top: float | None = None


@dataclass(frozen=True)
class KeyedEntries:
    """The entries of one page found from their start marks.

    Band rows are measured along the writing: a band's edge at column x of the
    normalised frame lies at ``row + slope * (x - centre)``.
    """

    bands: list[Band]
    left: float  # the table's extent, normalised frame
    right: float
    key: tuple[float, float]  # the key column
    pitch: float  # row pitch of the writing, normalised pixels
    confidence: float
    slope: float = 0.0  # the writing's remaining skew after normalisation (dy/dx)
    centre: float = 0.0  # the column the slope turns about
    #: A table across a spread: past the ``fold`` column the rows run at ``turn`` more
    #: slope (the right page's rows against the left page's, :func:`level_across`).
    fold: float = 0.0
    turn: float = 0.0

    def edge(self, row: float, x: Column) -> Column:
        """Where the band edge at ``row`` lies at column ``x`` (or columns)."""
        bent = self.turn * np.maximum(x - self.fold, 0.0) if self.turn else 0.0
        return row + self.slope * (x - self.centre) + bent


@dataclass(frozen=True)
class _Mark:
    top: int
    bottom: int


def find_entries(
    ink: Gray,
    flat: Gray,
    x0: int,
    x1: int,
    dpi: float,
    trace: dict[str, Any] | None = None,
    writing: Writing | None = None,
    fold: float | None = None,
) -> KeyedEntries | None:
    """The entries of the page between columns ``x0`` and ``x1`` of ``ink`` (255 = ink).

    ``flat`` is the flattened page in its darkest channel (normalise's ``writing``):
    pale writing and faint numbers in the key column are read from it with a lighter
    threshold. None when the page shows no key column with start marks in it.
    ``trace``, when given, receives the intermediate findings (for tools drawing them);
    ``writing``: :func:`writing_of` the same columns, when already taken. ``fold``: the
    column of a spread's fold when one table runs across both pages (``x0`` and ``x1``
    the spread's bounds): the writing is spanned on each page, and the key column and
    the rule under the column headings are sought on the left page, as wide as a
    page's are (the two pages' rules seldom meet in one line).
    """
    trace = {} if trace is None else trace
    if writing is None:
        writing = writing_of(ink, flat, x0, x1, dpi)
    lighter, text = writing.lighter, writing.text
    horizontal, vertical, rubric = writing.horizontal, writing.vertical, writing.rubric
    height, width = lighter.shape
    if height < 20 or width < 20:
        return None
    if not text.any():
        return None
    # Measure rows along the writing: normalisation deskews by the ruled lines, and
    # the writing often runs a few tenths of a degree off them.
    slope = _residual_slope(text)
    centre = width / 2
    text, horizontal, vertical, rubric = (
        _shear(m, slope, centre) for m in (text, horizontal, vertical, rubric)
    )
    lighter = _shear(lighter, slope, centre, fill=255)
    # The edges of red letters, blended with the paper, read as brown ink.
    rubric = cv2.dilate(rubric, _ones(5, 5))
    letter = _letter_height(text, dpi)
    # A table across a spread: the left page (the key column's) ends at the fold.
    at = None if fold is None else int(fold - x0)
    if at is None:
        left, right = _writing_span(text, letter, dpi)
    else:  # each page's writing: a blank band down the fold parts them
        left = _writing_span(np.ascontiguousarray(text[:, :at]), letter, dpi)[0]
        right = at + _writing_span(np.ascontiguousarray(text[:, at:]), letter, dpi)[1]
    if right - left < MIN_SPAN_SHARE * width:
        return None  # a blank page: edges and specks, no table of writing
    # Rules beyond the writing are page edges (a book block's stacked leaves), not the
    # table's: the table's own rules lie within a few letters of its writing.
    near = 4 * letter
    # Printed column rules are often lighter than the writing, or broken at the ink
    # level: they are sought at the key column's lighter level too.
    light = u8(cv2.threshold(lighter, MARK_LEVEL, 255, cv2.THRESH_BINARY_INV)[1])
    light_horizontal, light_vertical = _rules(light, dpi)
    # A key column between rules is taken at once; one read off the writing alone
    # (no narrow ruled column found) only when the rules at the lighter level show no
    # ruled one either: which of the two a page gets must not hang on whether its
    # rules pass at the ink level (a crop or a darker capture changes that).
    found: tuple[tuple[float, float] | None, list[float], tuple[float, float], Gray] | None = None
    for pale_rules in (False, True):
        if pale_rules:
            vertical = u8(cv2.bitwise_or(vertical, light_vertical))
        rules_x = [x for x in _vertical_rules(vertical, height) if left - near <= x <= right + near]
        ruled = (float(min([*rules_x[:1], left])), float(max([*rules_x[-1:], right])))
        # The writing at the lighter level, rules out: where the marks are read.
        faint = _off_rules(light, horizontal | vertical, dpi)
        page = ruled if at is None else (ruled[0], min(ruled[1], float(at)))
        key = _key_column(text, faint, rules_x, page, letter, dpi)
        if found is None or found[0] is None or (key is not None and _between_rules(key, rules_x)):
            found = (key, rules_x, ruled, faint)
        if key is not None and _between_rules(key, rules_x):
            break
    assert found is not None
    key, rules_x, ruled, faint = found
    left, right = ruled
    trace.update(
        text=text, slope=slope, letter=letter, rules_x=rules_x, key=key, span=(left, right)
    )
    if key is None:
        return None
    marks = _without_dashes(_marks(faint, key, letter, peers=True), faint, key, letter)
    trace.update(marks=[(m.top, m.bottom) for m in marks])
    if not marks:
        return None
    # The rule under the column headings may be printed lighter than the writing.
    across = u8(cv2.bitwise_or(horizontal, light_horizontal))
    headed = right if at is None else min(right, float(at))
    marks, ceiling = _below_headings(marks, across, left, headed, height)
    trace.update(ceiling=ceiling)
    if not marks:
        return None
    profile = _row_profile(text, left, right, letter)
    pitch = _pitch(profile, marks, letter)
    marks = _like_the_others(_without_tails(marks, faint, key, letter))
    marks = _one_per_row(marks, pitch)
    beside = _Beside.of(faint, rubric, key, right, letter)
    marks = _beside_writing(marks, *beside.held(marks))
    marks = _missed_marks(
        marks, lighter, horizontal | vertical, key, text, right, letter, dpi, pitch
    )
    marks = _with_writing(marks, beside)
    bands = _bands(text, profile, marks, ceiling, (left, right), (pitch, letter))
    foot = _at_foot(marks, beside, faint, (left, right), letter)
    if foot:  # an ornament, a speck, the page's edge: their rows are the last entry's
        log.debug("the last %d mark(s) start no entry", foot)
        bands = [*bands[: -foot - 1], replace(bands[-foot - 1], bottom=bands[-1].bottom)]
    held = _share_held(profile, bands)
    # Rows of a title in large letters, or of a book block's stacked leaves, are no
    # entry's: only rows of letter-sized writing count as rows above the first entry;
    # rows of red ones, however many its letters span, are one heading.
    pieces = _letter_pieces(text, letter)
    letters = _row_profile(pieces, left, right, letter)
    red = _row_profile(u8(cv2.bitwise_and(pieces, rubric)), left, right, letter)
    above = _rows_above(letters, red, bands, ceiling, pitch)
    trace.update(held=held, rows_above=above)
    if held < MIN_HELD or above > MAX_HEADER_ROWS:
        log.info(
            "entries from marks hold %.1f%% of the writing below them and leave %d rows "
            "above them: not used",
            100 * held,
            above,
        )
        return None
    return KeyedEntries(
        bands=bands,
        left=left + x0,
        right=right + x0,
        key=(key[0] + x0, key[1] + x0),
        pitch=pitch,
        confidence=_confidence(marks, pitch),
        slope=slope,
        centre=centre + x0,
    )


@dataclass(frozen=True)
class Writing:
    """One page's columns as :func:`find_entries` reads them (:func:`writing_of`)."""

    lighter: Gray  # the flattened darkest channel
    text: Gray  # the writing: the page's ink, pale writing added, less rules and specks
    horizontal: Gray  # its rules
    vertical: Gray
    #: 255 where the page is written in red ink (:func:`rubric_of`); zeros when the
    #: red channel was not given (as if the page held no rubric).
    rubric: Gray


def writing_of(
    ink: Gray, flat: Gray, x0: int, x1: int, dpi: float, red: Gray | None = None
) -> Writing:
    """The writing of the page between columns ``x0`` and ``x1``: its ink (its pale
    writing added when it is written in pale ink) less its rules and specks. ``red``:
    the page's flattened red channel, where its rubrics are told from its writing."""
    lighter = np.ascontiguousarray(flat[:, x0:x1])
    rubric = np.zeros_like(lighter) if red is None else rubric_of(red[:, x0:x1], lighter)
    page = np.ascontiguousarray(ink[:, x0:x1])
    pale = _pale_writing(lighter, page)
    if pale is not None:
        page = cv2.bitwise_or(page, pale)
    horizontal, vertical = _rules(page, dpi)
    text = cv2.bitwise_and(page, cv2.bitwise_not(cv2.dilate(horizontal | vertical, _ones(3, 3))))
    return Writing(lighter, _without_specks(u8(text), dpi), horizontal, vertical, rubric)


def turn_at(writing: Writing, fold: int) -> float:
    """How much steeper (dy/dx) the rows of a spread's ``writing`` run right of the
    ``fold`` column than left of it: each page's skew in the normalised frame, within
    :data:`PAGE_TURN` degrees (the spread as a whole was deskewed; one page may lie
    turned against the other)."""
    text = writing.text
    left = _residual_slope(np.ascontiguousarray(text[:, :fold]), PAGE_TURN)
    return _residual_slope(np.ascontiguousarray(text[:, fold:]), PAGE_TURN) - left


def level_across(writing: Writing, fold: int, turn: float) -> Writing:
    """A spread's ``writing`` with its columns from ``fold`` on sheared by ``turn``
    (the right page's row slope less the left page's) about the fold: the right page's
    rows brought level with the left page's. The two pages of a bound book seldom lie
    in one plane, so one table across them runs at two slopes."""
    if abs(turn) < 1e-6:
        return writing

    def level(image: Gray, fill: int) -> Gray:
        right = _shear(np.ascontiguousarray(image[:, fold:]), turn, 0.0, fill)
        return np.ascontiguousarray(np.hstack([image[:, :fold], right]))

    return Writing(
        level(writing.lighter, 255),
        level(writing.text, 0),
        level(writing.horizontal, 0),
        level(writing.vertical, 0),
        level(writing.rubric, 0),
    )


def rubric_of(red: Gray, darkest: Gray) -> Gray:
    """255 where the flattened ``darkest`` channel shows ink that the flattened
    ``red`` channel nearly loses (:data:`RUBRIC_SHARE`): red ink, in which old
    registers head their months and years. A grey capture has none."""
    dark = 255 - darkest.astype(np.int16)
    seen = (255 - red.astype(np.int16)) < RUBRIC_SHARE * dark
    return u8(np.where(seen & (dark > RUBRIC_DARKNESS), 255, 0))


@dataclass(frozen=True)
class Letters:
    """The letter-sized pieces of a page's writing away from its sides (where a book
    block's stacked leaves break into pieces as well): how many, and how dark they are
    (the paper's level less the median of each piece's darkest value, flattened
    darkest channel)."""

    count: int
    darkness: float

    @property
    def written(self) -> bool:
        """Whether the page holds writing: at least :data:`BLANK_PIECES` pieces. A
        blank page of a spread holds its rules, a heading in red and stray marks."""
        return self.count >= BLANK_PIECES

    def show_through_beside(self, facing: Letters) -> bool:
        """Whether these few pieces are much paler than the ``facing`` page's writing:
        what shows through the leaf from its other side, or lies on it, not writing."""
        return (
            self.count < SHOW_THROUGH_PIECES
            and facing.count >= SHOW_THROUGH_PIECES
            and self.darkness < SHOW_THROUGH_SHARE * facing.darkness
        )


def letters_of(writing: Writing, dpi: float) -> Letters:
    """The :class:`Letters` of a page's :func:`writing_of`."""
    text = writing.text
    if min(text.shape) < 20:
        return Letters(0, 0.0)
    middle = np.ascontiguousarray(nm.middle(text))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(middle, connectivity=8)
    heights, widths = stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_WIDTH]
    low, high = LETTER_PIECE_IN
    letters = (heights >= low * dpi) & (heights <= high * dpi)
    letters &= (widths >= WORD_PIECE_IN[0] * dpi) & (widths <= WORD_PIECE_IN[1] * dpi)
    letters[0] = False  # the background
    if not letters.any():
        return Letters(0, 0.0)
    flat = nm.middle(writing.lighter)
    inside = letters[labels]
    darkest = np.full(count, 255, np.int32)
    np.minimum.at(darkest, labels[inside], flat[inside].astype(np.int32))
    paper = float(np.median(flat))
    return Letters(int(letters.sum()), max(0.0, paper - float(np.median(darkest[letters]))))


def _pale_writing(flat: Gray, ink: Gray) -> Gray | None:
    """The writing of a page in pale ink (None for a page in dark ink): the flattened
    page under the level Otsu's method finds between its writing and its paper.

    Pale is judged on the ``ink`` mask itself, the writing a dark page is read by:
    brown ink is pale in the red channel the mask is taken from while its darkest
    channel may hold many dark pixels (a darker capture of ``bronod1_0015`` held 1.7%
    under 150 there, and 0.09% in its mask).

    When the mask already holds most of what lies under that level (:data:`PALE_HELD`:
    a register's printed rules and headings in dark ink), the level only parts them
    from all else, and is found again without them. On the real pages the mask holds
    0-11% of it (0-45% in their darker, paler and blurred captures), and nothing
    changes there."""
    inner = flat[flat < 250]
    # Judged away from the page's sides (nm.middle): a book block's stacked leaves and
    # the cover beside a page are dark, and are no writing.
    if inner.size < 100 or not nm.in_pale_ink(ink):
        return None
    otsu = nm.otsu(inner)
    under = flat < otsu
    held = cv2.dilate(ink, _ones(3, 3)) > 0  # with the edges of its strokes
    dark = int(np.count_nonzero(under))
    if np.count_nonzero(under & held) >= PALE_HELD * max(1, dark):
        # The level parts the ink the mask already holds (printed rules and headings
        # in dark ink) from all else, the pale writing among the paper: it is sought
        # again off that ink.
        rest = flat[(flat < 250) & (cv2.dilate(ink, _ones(5, 5)) == 0)]
        if rest.size >= 100:
            otsu = nm.otsu(rest)
    level = float(np.clip(otsu, *PALE_LEVELS))
    return u8(cv2.threshold(flat, level, 255, cv2.THRESH_BINARY_INV)[1])


def _residual_slope(text: Gray, most: float = 0.75) -> float:
    """The skew (dy/dx) under which the rows of writing are sharpest: the projection
    profile method, over +-``most`` degrees in steps of 0.05."""
    ys, xs = np.nonzero(text)
    if ys.size < 50:
        return 0.0
    step = max(1, ys.size // 40_000)  # enough pixels for the profile, few for speed
    ys, xs = ys[::step].astype(np.float64), xs[::step].astype(np.float64) - text.shape[1] / 2
    best, best_score = 0.0, -1.0
    for degrees in np.arange(-most, most + 1e-4, 0.05):
        slope = float(np.tan(np.radians(degrees)))
        rows = np.round(ys - xs * slope).astype(np.int64)
        counts = np.bincount(rows - rows.min()).astype(np.float64)
        score = float((counts**2).sum())
        if score > best_score:
            best, best_score = slope, score
    return best


def _shear(image: Gray, slope: float, centre: float, fill: int = 0) -> Gray:
    """``image`` with row y at column x moved to y - slope * (x - centre)."""
    if abs(slope) < 1e-6:
        return image
    matrix = np.array([[1.0, 0.0, 0.0], [-slope, 1.0, slope * centre]])
    size = (image.shape[1], image.shape[0])
    return u8(cv2.warpAffine(image, matrix, size, flags=cv2.INTER_NEAREST, borderValue=fill))


def _ones(rows: int, cols: int) -> NDArray[np.uint8]:
    return np.ones((max(1, rows), max(1, cols)), np.uint8)


def _rules(page: Gray, dpi: float) -> tuple[Gray, Gray]:
    """Horizontal and vertical rules, dotted and faded ones closed first."""
    gap = max(2, round(dpi * 0.06))
    run = max(15, round(dpi * 0.8))
    closed_h = cv2.morphologyEx(page, cv2.MORPH_CLOSE, _ones(1, gap))
    closed_v = cv2.morphologyEx(page, cv2.MORPH_CLOSE, _ones(gap, 1))
    horizontal = cv2.morphologyEx(closed_h, cv2.MORPH_OPEN, _ones(1, run))
    vertical = cv2.morphologyEx(closed_v, cv2.MORPH_OPEN, _ones(run, 1))
    # A rule is thin; a word whose letters the closing joined is a letter high.
    thick = max(3, round(dpi * 0.05))
    words_h = cv2.dilate(cv2.morphologyEx(horizontal, cv2.MORPH_OPEN, _ones(thick, 1)), _ones(3, 3))
    words_v = cv2.dilate(cv2.morphologyEx(vertical, cv2.MORPH_OPEN, _ones(1, thick)), _ones(3, 3))
    horizontal = cv2.bitwise_and(horizontal, cv2.bitwise_not(words_h))
    vertical = cv2.bitwise_and(vertical, cv2.bitwise_not(words_v))
    # Only the pixels that were ink: closing must not add rule where there was paper.
    return u8(cv2.bitwise_and(horizontal, page)), u8(cv2.bitwise_and(vertical, page))


def _off_rules(writing: Gray, rules: Gray, dpi: float) -> Gray:
    """``writing`` (a mask) less ``rules`` widened by a pixel, and less its specks."""
    return _without_specks(
        u8(cv2.bitwise_and(writing, cv2.bitwise_not(cv2.dilate(rules, _ones(3, 3))))), dpi
    )


def _without_specks(text: Gray, dpi: float) -> Gray:
    """Writing without dust, dots and the ends of rules the opening left behind."""
    least = max(2.0, (dpi * 0.02) ** 2)
    return _pieces_where(text, lambda stats: stats[:, cv2.CC_STAT_AREA] >= least)


def _pieces_where(text: Gray, keep: Callable[[NDArray[np.int32]], NDArray[np.bool_]]) -> Gray:
    """The pieces of ``text`` (8-connected) whose stats rows (OpenCV's left, top,
    width, height, area) ``keep`` selects; the background is never kept."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(text, connectivity=8)
    kept = np.asarray(keep(np.asarray(stats)), bool)
    kept[0] = False
    return np.where(kept[np.asarray(labels)], 255, 0).astype(np.uint8)


def _letter_height(text: Gray, dpi: float) -> float:
    """Median height of the pieces of writing that are letter-sized."""
    _, _, stats, _ = cv2.connectedComponentsWithStats(text, connectivity=8)
    heights = np.asarray(stats)[1:, cv2.CC_STAT_HEIGHT]
    letters = heights[(heights >= dpi * 0.04) & (heights <= dpi * 0.6)]
    return float(np.median(letters)) if letters.size else dpi * 0.12


def _column_ink(text: Gray) -> tuple[NDArray[np.float64], float]:
    """Writing per column, and the level of a well-written column (90th percentile)."""
    written = np.asarray(text.sum(axis=0), np.float64) / 255.0
    scale = float(np.percentile(written[written > 0], 90)) if written.any() else 0.0
    return written, scale


def _writing_span(text: Gray, letter: float, dpi: float) -> tuple[float, float]:
    """The columns the page's writing spans.

    The stretch of written columns with most ink (gaps under an inch bridged), widened
    by its neighbours within two inches whose pieces are letter-sized: a blank column
    of the table is crossed, while a book block's stacked leaves or a page edge beside
    the table (tall streaks, not letters) stays out.
    """
    written, scale = _column_ink(text)
    dense = (written > max(1.0, 0.05 * scale)).astype(np.uint8)
    bridged = np.asarray(
        cv2.morphologyEx(dense.reshape(1, -1), cv2.MORPH_CLOSE, _ones(1, round(dpi)))
    ).ravel()
    runs = runs_of(bridged > 0)
    if not runs:
        return 0.0, float(len(written) - 1)
    main = max(range(len(runs)), key=lambda i: written[runs[i][0] : runs[i][1]].sum())
    start, end = runs[main]
    for step in (-1, 1):
        index = main + step
        while 0 <= index < len(runs):
            a, b = runs[index]
            gap = a - end if step > 0 else start - b
            if gap > 2 * dpi or not _letters(text[:, a:b], letter):
                break
            start, end = min(start, a), max(end, b)
            index += step
    return float(max(0.0, start - letter)), float(min(len(written) - 1.0, end - 1 + letter))


def _letters(part: Gray, letter: float) -> bool:
    """Whether the pieces of writing in ``part`` are mostly letter-sized."""
    _, _, stats, _ = cv2.connectedComponentsWithStats(np.ascontiguousarray(part), connectivity=8)
    heights = np.asarray(stats)[1:, cv2.CC_STAT_HEIGHT]
    if heights.size < 3:
        return False
    return bool(np.mean((heights >= 0.4 * letter) & (heights <= 2.5 * letter)) >= 0.6)


def _vertical_rules(vertical: Gray, height: int) -> list[float]:
    """Columns of the vertical rules that run down most of the page."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(vertical, connectivity=8)
    stats = np.asarray(stats)
    labels = np.asarray(labels)
    xs = []
    for index in range(1, count):
        if stats[index, cv2.CC_STAT_HEIGHT] >= RULE_HEIGHT_SHARE * height:
            x, w = stats[index, cv2.CC_STAT_LEFT], stats[index, cv2.CC_STAT_WIDTH]
            xs.append(x + w / 2)
    xs.sort()
    merged: list[float] = []
    for x in xs:  # a rule broken at a fold or a stain is one rule
        if merged and x - merged[-1] < 4:
            merged[-1] = (merged[-1] + x) / 2
        else:
            merged.append(x)
    return merged


def _key_column(
    text: Gray,
    faint: Gray,
    rules_x: list[float],
    span_x: tuple[float, float],
    letter: float,
    dpi: float,
) -> tuple[float, float] | None:
    """The column entries start in: a narrow first ruled column (or the column before
    it, bounded by the table's edge), else the first band of writing left of the
    first empty channel down the page.

    ``faint`` is the writing at the key column's lighter level: numbers there are often
    paler than the rest. Rules closer than a double rule's spacing are one rule; the
    table's left edge bounds the first column when its own rule is not found (a frame
    line too thick to pass for a rule, or the page's edge).
    """
    left, right = span_x
    span = right - left
    written, scale = _column_ink(text)
    pale = np.asarray(faint.sum(axis=0), np.float64) / 255.0
    rules: list[float] = []
    # Two rules closer than a number is wide (two letters, at least 0.12 inch) are a
    # double rule (a frame's edge): no column of numbers fits between them.
    double = max(dpi * 0.12, 2 * letter)
    for x in rules_x:
        if rules and x - rules[-1] < double:
            continue  # the second line of a double rule
        rules.append(x)
    # The first narrow ruled column with writing in it, unless a later one of the
    # narrow columns that follow it holds over twice its marks: a margin for notes
    # ruled before the numbers' column has a tick at a few entries only.
    narrow = []
    for a, b in itertools.pairwise(rules):
        if b - a > KEY_WIDTH_SHARE * span or not pale[int(a) + 2 : int(b) - 1].sum() > 0:
            break
        narrow.append((a, b))
        if len(narrow) > KEY_RETRIES:
            break
    chosen: tuple[tuple[float, float], list[_Mark]] | None = None
    if narrow:
        found = [(column, _marks(faint, column, letter)) for column in narrow]
        most = max(len(marks) for _, marks in found)
        chosen = next((c, marks) for c, marks in found if 2 * len(marks) >= most)
    # The table's left edge bounds the first column when its own rule is not found.
    first = rules[0] - left if rules else 0.0
    if dpi * 0.2 <= first <= KEY_WIDTH_SHARE * span:
        edge = (left, rules[0])
        marks = _marks(faint, edge, letter)
        # Numbers start lines of writing; the pieces of a page's edge run on beside
        # blank paper. (The comparison with the ruled column weighs all its marks: a
        # margin's notes are told from numbers by their number and height.)
        starting = _beside_text(marks, text, edge, right, letter)
        if _numbers_in(edge, starting, faint, letter) and (
            chosen is None or _outweighs((edge, marks), chosen, faint, letter)
        ):
            return edge
    if chosen is not None:
        return chosen[0]
    # No narrow ruled column: the first band of writing and the channel after it.
    limit = min(len(written), int(left + KEY_WIDTH_SHARE * span))
    blank = (written <= max(1.0, 0.03 * scale)).astype(np.uint8)
    # A faint or dotted rule down the channel leaves a column or two of dots in it.
    blank = np.asarray(cv2.morphologyEx(blank.reshape(1, -1), cv2.MORPH_CLOSE, _ones(1, 4))).ravel()
    channel = max(3, round(dpi * 0.08))
    for start, end in runs_of(blank == 0):
        if start >= limit:
            break
        if end - start < dpi * 0.1:
            continue  # what a rule's edge or a stray stroke leaves
        gap_end = end
        while gap_end < len(blank) and blank[gap_end]:
            gap_end += 1
        if gap_end - end >= channel:
            return (float(start - 1), float(end + min(gap_end - end, channel) / 2))
        return None
    return None


def _beside_text(
    marks: list[_Mark], text: Gray, column: tuple[float, float], right: float, letter: float
) -> list[_Mark]:
    """``marks`` with writing right of ``column`` on their rows (a letter's worth of
    ink, up to ``right``): an entry's number stands at the start of its line, while
    the pieces of a page's edge run on down beside blank paper."""
    least = letter * letter
    return [m for m in marks if _ink_beside(text, m.top, m.bottom, column, right) >= least]


def _numbers_in(
    column: tuple[float, float], marks: list[_Mark], faint: Gray, letter: float
) -> bool:
    """Whether ``column`` (bounded by the table's edge) holds numbers of two entries or
    more: marks a letter high and wide, on rows two letters apart. The pieces of a page's
    edge or binding beside the table are thin, or lie on one row."""
    sized = _letter_sized_marks(faint, column, marks, letter)
    return len(sized) >= 2 and sized[-1].top - sized[0].bottom >= 2 * letter


def _outweighs(
    edge: tuple[tuple[float, float], list[_Mark]],
    ruled: tuple[tuple[float, float], list[_Mark]],
    faint: Gray,
    letter: float,
) -> bool:
    """Whether the column bounded by the table's edge, not by a rule found, holds the
    numbers rather than the ruled column after it: at least half as many marks a
    letter high and wide or more, about as tall (:data:`KEY_TALL`). A date column's
    ditto dots outnumber the numbers beside them but are smaller; a margin's notes
    are many but no taller than letters, while numbers are written larger; the
    stacked leaves at a book's edge break into pieces as high as numbers but thin.
    Each column comes with its marks."""
    mine, theirs = (_letter_sized_marks(faint, *found, letter) for found in (edge, ruled))
    if not mine or 2 * len(mine) < len(theirs):
        return False
    heights = [[m.bottom - m.top for m in marks] or [0] for _, marks in (edge, ruled)]
    return float(np.median(heights[0])) >= KEY_TALL * float(np.median(heights[1]))


def _letter_sized_marks(
    faint: Gray, column: tuple[float, float], marks: list[_Mark], letter: float
) -> list[_Mark]:
    """``column``'s ``marks`` at least a letter high and a letter wide (the writing
    ``faint`` in the column, from its first to its last stroke)."""
    a, b = int(np.ceil(column[0])) + 1, int(column[1])
    sized = []
    for mark in marks:
        xs = np.flatnonzero(faint[mark.top : mark.bottom, a:b].any(axis=0))
        width = int(xs[-1] - xs[0]) + 1 if xs.size else 0
        if mark.bottom - mark.top >= letter and width >= letter:
            sized.append(mark)
    return sized


def _between_rules(key: tuple[float, float], rules_x: list[float]) -> bool:
    """Whether the key column's right edge is one of the rules found."""
    return any(abs(key[1] - x) < 1 for x in rules_x)


def runs_of(values: NDArray[np.bool_]) -> list[tuple[int, int]]:
    """(start, end) of each run of True, end exclusive."""
    padded = np.concatenate([[False], values, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _marks(text: Gray, key: tuple[float, float], letter: float, peers: bool = False) -> list[_Mark]:
    """The writing inside the key column, merged per row, letter-sized or larger;
    ``peers``: the column is the key column, whose numbers are about one height
    (:data:`MARK_PEER_TALL`; not while columns are compared for it, where a margin's
    notes joined in a darker capture would count too)."""
    column = _key_column_of(text, key)
    if column.shape[1] < 2:
        return []
    _, _, stats, _ = cv2.connectedComponentsWithStats(column, connectivity=8)
    stats = np.asarray(stats)
    stats = stats[1:]
    heights, widths = stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_WIDTH]
    # A sliver one or two pixels wide and several times as high is what is left of a
    # rule down the column, not a stroke of a number (a hand-written "1" slants).
    stats = stats[~((widths <= 2) & (heights > 4 * widths))]
    tops = stats[:, cv2.CC_STAT_TOP]
    pieces = sorted(zip(tops.tolist(), (tops + stats[:, cv2.CC_STAT_HEIGHT]).tolist(), strict=True))
    # A rule down the column, a frame's edge, a blot: not a number.
    pieces = [(top, bottom) for top, bottom in pieces if bottom - top <= BLOT_LETTERS * letter]
    marks = []
    for mark in _merged(pieces, 0.3 * letter):
        if mark[1] - mark[0] > MARK_LETTERS * letter:
            # The numbers of two rows written close together: apart where blank rows
            # part them, else where their strokes touch.
            for part in _merged([p for p in pieces if mark[0] <= p[0] < mark[1]], 0):
                marks += _parted(column, part, letter)
        else:
            marks.append(mark)
    # Letter-sized: a dot is not a number, nor is a frame's edge or a blot; a mark too
    # tall to part is a number when about as tall as the others.
    lowest, highest = 0.5 * letter, MARK_LETTERS * letter
    if peers:
        usual = [b - t for t, b in marks if lowest <= b - t <= highest]
        if len(usual) >= MARK_PEERS:
            highest = max(highest, MARK_PEER_TALL * float(np.median(usual)))
    return [_Mark(t, b) for t, b in marks if lowest <= b - t <= highest]


def _without_dashes(
    marks: list[_Mark], text: Gray, key: tuple[float, float], letter: float
) -> list[_Mark]:
    """``marks`` less those lower than :data:`FLAT_MARK` letters whose pieces (in
    ``text``, the key column) are all flat (:data:`FLAT_PIECE` times as wide as high or
    more) or slivers (:data:`SLIVER_LETTERS`): the dashes of a rule broken by fading or
    drawn dashed, under the key column or across the table, waver over a few rows, and
    a rule down the column's edge leaves slivers where it breaks; a number is a letter
    high or more."""
    column = _key_column_of(text, key)
    kept = []
    for mark in marks:
        if mark.bottom - mark.top < FLAT_MARK * letter:
            rows = np.ascontiguousarray(column[mark.top : mark.bottom])
            _, _, stats, _ = cv2.connectedComponentsWithStats(rows, connectivity=8)
            widths, heights = stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT]
            dashes = (widths >= FLAT_PIECE * heights) | (widths <= SLIVER_LETTERS * letter)
            if widths.size and bool(np.all(dashes)):
                continue
        kept.append(mark)
    return kept


def _key_column_of(text: Gray, key: tuple[float, float]) -> Gray:
    """The writing inside the key column, its left rule's pixel left out."""
    return np.ascontiguousarray(text[:, int(np.ceil(key[0])) + 1 : max(0, int(key[1]))])


def _parted(column: Gray, span: tuple[int, int], letter: float) -> list[tuple[int, int]]:
    """``span`` (top, bottom rows of ``column``) parted where its strokes are thinnest,
    while it is too tall for one mark: two numbers written one under the other with a
    descender touching the next one's top. A part is made only at a row holding under
    :data:`PART_SHARE` of the span's usual row of ink, a letter or more from its ends,
    and only where that usual row is a letter wide or more (numbers of two or three
    figures): a blot, as thick all down, and a rule's thin piece stay whole."""
    top, bottom = span
    if bottom - top <= MARK_LETTERS * letter:
        return [span]
    rows = _row_ink(column, span)
    figures = _figures_in(rows, letter)
    if figures < len(rows):
        return _parted(column, (top, top + figures), letter)
    reach = round(letter)
    if len(rows) <= 2 * reach:
        return [span]
    usual = _usual(rows)
    if usual < letter:
        return [span]  # a thin stroke down the column: a rule's piece, no numbers
    row = int(np.argmin(rows[reach : len(rows) - reach])) + reach
    if rows[row] > PART_SHARE * usual:
        return [span]
    upper, lower = (top, top + row), (top + row, bottom)
    return [*_parted(column, upper, letter), *_parted(column, lower, letter)]


def _figures_in(rows: NDArray[np.intp], letter: float) -> int:
    """How many of a too-tall mark's ``rows`` (ink per row, top down) are its figures:
    all but a thin stroke hanging under them (a 5 or a 7 ending in a long tail), the
    rows at its foot holding under :data:`TAIL_SHARE` of its fuller rows' ink (the
    75th percentile of its inked rows: the tail may be longer than the figures are
    high). A rule's piece or a blot, as thick all down, keeps every row."""
    if not rows.any():
        return len(rows)
    level = TAIL_SHARE * float(np.percentile(rows[rows > 0], 75))
    end = len(rows)
    while end > 0 and rows[end - 1] <= level:
        end -= 1
    return len(rows) if end < 0.5 * letter else end


def _merged(pieces: list[tuple[int, int]], reach: float) -> list[tuple[int, int]]:
    """Row spans of ``pieces`` (top, bottom; sorted by top) joined when one starts
    within ``reach`` rows of the end of the one before."""
    spans: list[list[int]] = []
    for top, bottom in pieces:
        if spans and top <= spans[-1][1] + reach:
            spans[-1][1] = max(spans[-1][1], bottom)
        else:
            spans.append([top, bottom])
    return [(top, bottom) for top, bottom in spans]


def _share_held(profile: NDArray[np.float64], bands: list[Band]) -> float:
    """The share of the writing from the first entry down that lies inside the bands
    (rows measured along the writing). Writing above the first entry is the page's
    header; writing below or between the bands would be in no file."""
    if not bands:
        return 0.0
    start = max(0, int(np.floor(bands[0].top)))
    total = float(profile[start:].sum())
    if total <= 0:
        return 1.0
    held = np.zeros(len(profile), bool)
    for band in bands:
        held[max(0, int(np.floor(band.top))) : int(np.ceil(band.bottom)) + 1] = True
    return float(profile[start:][held[start:]].sum()) / total


def _letter_pieces(text: Gray, letter: float) -> Gray:
    """``text`` without its pieces more than three letters high (titles, streaks) and
    its slivers (what the edges of stacked leaves break into)."""

    def letters(stats: NDArray[np.int32]) -> NDArray[np.bool_]:
        heights, widths = stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_WIDTH]
        return (heights <= 3 * letter) & ~((widths < 0.35 * letter) & (heights > 2 * widths))

    return _pieces_where(text, letters)


def _rows_above(
    profile: NDArray[np.float64],
    red: NDArray[np.float64],
    bands: list[Band],
    ceiling: float,
    pitch: float,
) -> int:
    """Rows of writing between the headings and the first entry (a month or year
    heading is one; many mean the marks began far down the page). Rows written mostly
    in red (``red``: the red part of ``profile``) are one heading together."""
    if not bands:
        return 0
    centres = _row_centres(profile, pitch)
    rows = centres[(centres > ceiling) & (centres < bands[0].top)].astype(int)
    in_red = red[rows] >= 0.5 * profile[rows]
    return int((~in_red).sum()) + int(in_red.any())


def _like_the_others(marks: list[_Mark]) -> list[_Mark]:
    """The marks at least :data:`MARK_LOW_SHARE` as high as the column's median mark:
    a dot or a stroke's tip among the numbers starts no entry."""
    if len(marks) < MARK_PEERS:
        return marks
    usual = float(np.median([m.bottom - m.top for m in marks]))
    return [m for m in marks if m.bottom - m.top >= MARK_LOW_SHARE * usual]


def _without_tails(
    marks: list[_Mark], text: Gray, key: tuple[float, float], letter: float
) -> list[_Mark]:
    """``marks`` less the strokes hanging from the number above them: a mark that
    begins within a letter under the one before and whose usual row of ink is under
    :data:`TAIL_SHARE` of that one's (a figure's long tail the working copy broke off
    its number) starts no entry."""
    column = _key_column_of(text, key)
    kept: list[_Mark] = []
    for mark in marks:
        if kept and mark.top - kept[-1].bottom <= letter:
            above = kept[-1]
            thin = _usual(_row_ink(column, (mark.top, mark.bottom)))
            if thin < TAIL_SHARE * _usual(_row_ink(column, (above.top, above.bottom))):
                continue
        kept.append(mark)
    return kept


def _row_ink(column: Gray, span: tuple[int, int]) -> NDArray[np.intp]:
    """The inked pixels of each row of ``column`` from ``span``'s top to its bottom."""
    return np.asarray((column[span[0] : span[1]] > 0).sum(axis=1))


def _usual(rows: NDArray[np.intp]) -> float:
    """The median ink of the inked ``rows`` (0 when none is)."""
    return float(np.median(rows[rows > 0])) if rows.any() else 0.0


def _beside_writing(marks: list[_Mark], held: list[int], headed: list[int]) -> list[_Mark]:
    """The marks from the first whose band (its rows down to the next mark's) holds
    writing right of the key column: a flourish or a note above the first entry
    starts a band of nothing (under :data:`BESIDE_SHARE` of the bands' median), and
    no entry; nor does a speck beside a heading in red ink, its band holding more red
    writing than other. ``held`` and ``headed``: each band's other and red writing
    (:meth:`_Beside.held`). A mark further down is kept whatever its band holds:
    dropping it could leave writing in no band (see :func:`_at_foot` for the marks
    under the last entry)."""
    if len(marks) < MARK_PEERS:
        return marks
    least = BESIDE_SHARE * float(np.median(held))
    starts = (i for i, (ink, heading) in enumerate(zip(held, headed, strict=True))
              if ink >= least and heading <= ink)  # fmt: skip
    return marks[next(starts, 0) :]


@dataclass(frozen=True)
class _Beside:
    """The writing right of the key column that tells what a mark's band holds, taken
    once per page: ``other`` and ``red`` (its rubric) parts of the page's writing at
    the key column's level, where a pale first line still shows; pieces taller than
    :data:`BLOT_LETTERS` (a page's edge) left out."""

    other: Gray
    red: Gray
    key: tuple[float, float]
    right: float

    @classmethod
    def of(
        cls, writing: Gray, rubric: Gray, key: tuple[float, float], right: float, letter: float
    ) -> _Beside:
        writing = _pieces_where(
            writing, lambda stats: stats[:, cv2.CC_STAT_HEIGHT] <= BLOT_LETTERS * letter
        )
        red = u8(cv2.bitwise_and(writing, rubric))
        other = u8(cv2.bitwise_and(writing, cv2.bitwise_not(rubric)))
        return cls(other, red, key, right)

    def held(self, marks: list[_Mark]) -> tuple[list[int], list[int]]:
        """The pixels of other and of red writing in each mark's band (its rows down
        to the next mark's; the last mark's own rows)."""
        ends = [m.top for m in marks[1:]] + [m.bottom for m in marks[-1:]]
        spans = [(m.top, max(end, m.bottom)) for m, end in zip(marks, ends, strict=True)]
        return (
            [_ink_beside(self.other, top, bottom, self.key, self.right) for top, bottom in spans],
            [_ink_beside(self.red, top, bottom, self.key, self.right) for top, bottom in spans],
        )


def _with_writing(marks: list[_Mark], beside: _Beside) -> list[_Mark]:
    """``marks`` less those between the first and the last whose band holds under
    :data:`BESIDE_SHARE` of the bands' median of other writing (:meth:`_Beside.held`):
    a correction or a few dots written over a number, in the blank rows above it, or
    a speck in the gap between two acts. The band above runs on over their rows, so
    no writing leaves the entries."""
    if len(marks) < MARK_PEERS:
        return marks
    held, _ = beside.held(marks)
    least = BESIDE_SHARE * float(np.median(held))
    last = len(marks) - 1
    return [m for i, (m, ink) in enumerate(zip(marks, held, strict=True))
            if i in (0, last) or ink >= least]  # fmt: skip


def _at_foot(
    marks: list[_Mark],
    beside: _Beside,
    writing: Gray,
    span: tuple[float, float],
    letter: float,
) -> int:
    """How many of the last ``marks`` lie under the last entry and start none: each
    with next to nothing beside it but red (the first stroke of an ornament that ends
    the month) or nothing at all (a speck on the blank foot of the page), its band
    holding under :data:`BESIDE_SHARE` of the bands' median of other writing and no
    more of that than of red (:meth:`_Beside.held`); or each a piece of the page's
    bottom edge (:func:`_edges`, reading ``writing``). Their rows stay the last
    entry's, where the tails of its last line may hang: no ink leaves the entries. With fewer than
    :data:`MARK_PEERS` marks (a page of two long acts) no median says what is little:
    only a mark with no writing but red beside it starts none."""
    if len(marks) < 2:
        return 0
    held, headed = beside.held(marks)
    if len(marks) < MARK_PEERS:
        least, edges = 1.0, [False] * len(marks)
    else:
        least = BESIDE_SHARE * float(np.median(held))
        edges = _edges(marks, writing, beside.key, span, letter)
    # Under a letter's worth of other writing is nothing at all: specks, what is left
    # of the rules down the table at the page's foot.
    nothing = letter * letter
    foot = 0
    for i in range(len(marks) - 1, 0, -1):
        little = held[i] < least and (held[i] <= headed[i] or held[i] < nothing)
        if not (edges[i] or little):
            break
        foot += 1
    return foot


def _edges(
    marks: list[_Mark],
    writing: Gray,
    key: tuple[float, float],
    span: tuple[float, float],
    letter: float,
) -> list[bool]:
    """Whether each mark is a piece of the page's bottom edge (or the shadow along
    it): part of a piece of ``writing`` across more than :data:`EDGE_SHARE` of the
    table (``span``), as solid as a band across the key column (its usual row holding
    :data:`EDGE_FILL` times the marks' median, where a number's rows hold a few
    strokes: an underline touching a number leaves most of its rows as they are), and
    with under :data:`BESIDE_SHARE` of the marks' median writing beside its own rows
    once such pieces are left out."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(writing, connectivity=8)
    wide = np.asarray(stats)[:, cv2.CC_STAT_WIDTH] > EDGE_SHARE * (span[1] - span[0])
    wide[0] = False  # the paper
    narrow = u8(np.where(wide[labels], 0, writing))
    beside = [_ink_beside(narrow, m.top, m.bottom, key, span[1]) for m in marks]
    least = BESIDE_SHARE * float(np.median(beside))
    column = _key_column_of(writing, key)
    fill = [_usual(_row_ink(column, (m.top, m.bottom))) for m in marks]
    solid = EDGE_FILL * float(np.median(fill))
    a, b = int(np.ceil(key[0])) + 1, max(0, int(key[1]))
    return [
        bool(wide[labels[m.top : m.bottom, a:b]].any()) and full >= solid and ink < least
        for m, full, ink in zip(marks, fill, beside, strict=True)
    ]


def _ink_beside(
    writing: Gray, top: int, bottom: int, key: tuple[float, float], right: float
) -> int:
    """The pixels of ``writing`` on rows ``top``..``bottom`` right of the key column."""
    return int(np.count_nonzero(writing[max(0, top) : bottom, int(key[1]) + 2 : int(right)]))


def _missed_marks(
    marks: list[_Mark],
    lighter: Gray,
    rules: Gray,  # the ruled lines, unwidened (:func:`_off_rules`)
    key: tuple[float, float],
    text: Gray,
    right: float,
    letter: float,
    dpi: float,
    pitch: float,
) -> list[_Mark]:
    """``marks`` with the ones a paler hand or a coarser capture left under the marks'
    level found again: in a gap between two marks of :data:`MISSED_SPACINGS` times
    their usual spacing or more, the key column is read at :data:`MISSED_LEVEL`, and
    a mark found there at least 0.6 of a spacing from both, as tall as the others
    (:data:`MARK_LOW_SHARE`), with writing beside it on its rows like theirs
    (:data:`MISSED_BESIDE` of their median: an entry's first line; a blank row has
    none), is one more entry's start. A continuation row has writing beside it, but
    its key cell is empty at any level."""
    if len(marks) < MARK_PEERS:
        return marks
    spacing = float(np.median(np.diff([m.top for m in marks])))
    gaps = [
        (a, b) for a, b in itertools.pairwise(marks) if b.top - a.top >= MISSED_SPACINGS * spacing
    ]
    if not gaps:
        return marks
    paler = u8(cv2.threshold(lighter, MISSED_LEVEL, 255, cv2.THRESH_BINARY_INV)[1])
    paler = _off_rules(paler, rules, dpi)

    def beside(mark: _Mark) -> int:
        return _ink_beside(text, mark.top, mark.bottom, key, right)

    usual_height = float(np.median([m.bottom - m.top for m in marks]))
    usual_beside = float(np.median([beside(m) for m in marks]))
    found = []
    for mark in _marks(paler, key, letter):
        if mark.bottom - mark.top < MARK_LOW_SHARE * usual_height:
            continue
        for a, b in gaps:
            if min(mark.top - a.top, b.top - mark.top) >= 0.6 * spacing:
                if beside(mark) >= MISSED_BESIDE * usual_beside:
                    found.append(mark)
                break
    if not found:
        return marks
    log.debug("marks found again at the paler level: %s", [(m.top, m.bottom) for m in found])
    return _one_per_row(sorted([*marks, *found], key=lambda m: m.top), pitch)


def _one_per_row(marks: list[_Mark], pitch: float) -> list[_Mark]:
    """Marks closer than half a row pitch are one mark (a number and the dot before it)."""
    merged: list[_Mark] = []
    for mark in marks:
        if (
            merged
            and (mark.top + mark.bottom) / 2 - (merged[-1].top + merged[-1].bottom) / 2
            < 0.5 * pitch
        ):
            merged[-1] = _Mark(merged[-1].top, max(merged[-1].bottom, mark.bottom))
        else:
            merged.append(mark)
    return merged


def _below_headings(
    marks: list[_Mark], horizontal: Gray, left: float, right: float, height: int
) -> tuple[list[_Mark], float]:
    """Drop the marks of the column headings: those above the lowest rule across the
    table near its top that still has marks below it. Also the row of that rule (0
    without one): nothing above it belongs to an entry."""
    band = horizontal[:, max(0, int(left)) : int(right) + 1]
    if band.shape[1] == 0:
        return marks, 0.0
    band = cv2.dilate(np.ascontiguousarray(band), _ones(5, 1))  # a rule wanders a row or two
    across = (band > 0).mean(axis=1) >= RULE_WIDTH_SHARE
    rows = [int(y) for y in np.flatnonzero(across) if y < HEADING_ZONE * height]
    for y in sorted(rows, reverse=True):
        below = [m for m in marks if m.top > y]
        if below:
            return below, float(y)
    return marks, 0.0


def _row_profile(text: Gray, left: float, right: float, letter: float) -> NDArray[np.float64]:
    """Writing per row across the table, lightly smoothed."""
    part = text[:, max(0, int(left)) : int(right) + 1]
    profile = (part > 0).sum(axis=1).astype(np.float64)
    size = max(1, round(letter * 0.25)) | 1
    return np.convolve(profile, np.ones(size) / size, mode="same")


def _pitch(profile: NDArray[np.float64], marks: list[_Mark], letter: float) -> float:
    """The row pitch of the writing: the closer of the row profile's period and the
    common spacing of the marks (one-row entries are one pitch apart; handwriting
    that ignores the paper's ruling has no clear period)."""
    candidates = [letter * 2.2]
    period = _period(profile, letter)
    if period is not None:
        candidates.append(period)
    # Marks closer than the least pitch are pieces of one mark (a number blur broke
    # into strokes a few pixels apart), not two rows: their spacing says nothing of it.
    gaps = np.diff([m.top for m in marks])
    gaps = gaps[gaps >= letter * LEAST_PITCH]
    if gaps.size >= 3:
        candidates.append(float(np.percentile(gaps, 20)))
    return max(letter * LEAST_PITCH, min(candidates[1:] or candidates))


def _period(profile: NDArray[np.float64], letter: float) -> float | None:
    """The first strong peak of the row profile's autocorrelation past its trough."""
    high = round(letter * 6)
    signal = profile - profile.mean()
    if len(signal) > 2 * high:
        corr = np.correlate(signal, signal, mode="full")[len(signal) - 1 : len(signal) + high + 1]
        falling = np.flatnonzero(np.diff(corr) > 0)  # the first lag where it rises again
        if falling.size:
            trough = int(falling[0])
            tail = corr[trough:]
            tops = [
                trough + i
                for i in range(1, len(tail) - 1)
                if tail[i] >= tail[i - 1] and tail[i] >= tail[i + 1] and tail[i] > 0
            ]
            peaks = [p for p in tops if corr[p] >= 0.8 * tail.max()]
            if peaks and corr[peaks[0]] > 0 and peaks[0] >= letter * 1.2:
                # Entries of two rows each repeat at twice the rows' period, and may
                # outweigh it: a peak near half of the one found, HALF_PEAK as strong,
                # is the rows' own.
                half = [
                    p for p in tops
                    if abs(p - peaks[0] / 2) <= 0.15 * peaks[0]
                    and corr[p] >= HALF_PEAK * corr[peaks[0]] and p >= letter * 1.2
                ]  # fmt: skip
                return float(half[0] if half else peaks[0])
    return None


def _row_centres(profile: NDArray[np.float64], pitch: float) -> NDArray[np.float64]:
    """Rows where writing is densest: the body of each line of letters (ascenders and
    descenders, which reach into the neighbouring rows, are much sparser)."""
    size = max(1, round(pitch * 0.4)) | 1
    smooth = np.convolve(profile, np.ones(size) / size, mode="same")
    floor = max(1.0, 0.1 * float(np.percentile(smooth[smooth > 0], 90))) if smooth.any() else 1.0
    reach = max(1, round(pitch * 0.35))
    column = np.ascontiguousarray(smooth.reshape(-1, 1))
    peak = np.asarray(cv2.dilate(column, _ones(2 * reach + 1, 1))).ravel()  # max over ±reach
    candidates = np.flatnonzero((smooth >= floor) & (smooth >= peak))
    centres: list[int] = []
    for y in candidates.tolist():  # a flat top counts once
        if not centres or y - centres[-1] > reach:
            centres.append(y)
    return np.asarray(centres, np.float64)


def _mark_row(centres: NDArray[np.float64], mark: _Mark, pitch: float, low: float = 0.0) -> float:
    """The body row of a mark: the row centre nearest its middle lowered by ``low``
    (:func:`_figures_low`), else its middle."""
    middle = (mark.top + mark.bottom) / 2
    if centres.size:
        nearest, lowered = _nearest(centres, middle), _nearest(centres, middle + low)
        # Centres closer than that are one line's body (a blurred line peaks twice):
        # the figures' lift only decides between two lines.
        if abs(lowered - nearest) >= FIGURES_LINES * pitch and abs(lowered - middle) <= 0.5 * pitch:
            return lowered
        if abs(nearest - middle) <= 0.5 * pitch:
            return nearest
    return middle


def _mark_rows(centres: NDArray[np.float64], marks: list[_Mark], pitch: float) -> list[float]:
    """The body row of each mark (:func:`_mark_row`), its middle lowered by how far
    this page's marks stand above their lines (:func:`_figures_low`)."""
    low = _figures_low(centres, marks, pitch)
    return [_mark_row(centres, mark, pitch, low) for mark in marks]


def _nearest(centres: NDArray[np.float64], row: float) -> float:
    """The row centre nearest ``row`` (``centres`` not empty)."""
    return float(centres[np.argmin(np.abs(centres - row))])


def _figures_low(centres: NDArray[np.float64], marks: list[_Mark], pitch: float) -> float:
    """How far the body of the marks' lines lies under the marks' middles on this
    page (median over the marks, at most ``FIGURES_LOW`` pitch, never negative)."""
    if not centres.size or not marks:
        return 0.0
    middles = [(mark.top + mark.bottom) / 2 for mark in marks]
    offsets = [_nearest(centres, m) - m for m in middles]
    offsets = [offset for offset in offsets if abs(offset) <= 0.5 * pitch]
    if not offsets:
        return 0.0
    return float(np.clip(np.median(offsets), 0.0, FIGURES_LOW * pitch))


#: A piece of the writing this many letters long, flat and solid, is a rule (see
#: :func:`_written_centres`). At 15 the shortest closing rule of
#: ``rep_dufour1_07680_L-1`` (119 px for letters 8 high) stayed writing; on the tuning
#: images 6, 10 and 12 change no cut.
RULE_ROW_LONG = 10
#: An upright piece of the writing at least this many pitches high and this many
#: times as high as wide is what is left of a column rule, not writing (see
#: :func:`_less_posts`). On ``rep_dufour1_07680_L-1`` at 0.7 of its size one 5 pitches
#: high and 13 px wide ran from the month heading down to the first number.
POST_PITCHES = 2.0
POST_SLENDER = 4.0
#: Figures stand on their line's baseline and are taller than its small letters, so a
#: number's middle lies above the body of its line (rows of writing closer than a
#: pitch, a squeezed continuation row above the number's own, made the nearest row
#: the wrong one): at most this many pitches.
FIGURES_LOW = 0.3
#: ... which decides only between row centres this many pitches apart or more (two
#: lines; a blurred capture of ``rep_randomset1_0073_L-0`` peaked twice half a pitch
#: apart in one line's body, and the lower peak put a cut through the number's top).
FIGURES_LINES = 0.7


def _written_centres(
    text: Gray, centres: NDArray[np.float64], pitch: float, letter: float
) -> NDArray[np.float64]:
    """``centres`` less the rows whose ink is mostly a rule the rule finder left in
    the writing (a double rule closing an act, as thick as a small letter is high): a
    piece at least ``RULE_ROW_LONG`` letters long, at most two high, inked over half
    its box (a word's strokes fill much less of theirs)."""
    keep = []
    reach = round(0.3 * pitch)
    for centre in centres:
        a, b = max(0, int(centre) - reach), int(centre) + reach + 1
        band = np.ascontiguousarray(text[a:b])
        _, _, stats, _ = cv2.connectedComponentsWithStats(band, connectivity=8)
        stats = np.asarray(stats)[1:]
        if not stats.size:
            keep.append(centre)
            continue
        area = stats[:, cv2.CC_STAT_AREA]
        width, height = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
        flat = (width >= RULE_ROW_LONG * letter) & (height <= 2 * letter)
        flat &= area >= 0.5 * width * height
        if area[flat].sum() < 0.5 * area.sum():
            keep.append(centre)
    return np.asarray(keep, np.float64)


def _lines_around(
    centres: NDArray[np.float64], row: float, floor: float, previous: float | None
) -> tuple[float, float] | None:
    """The densest rows of the lines a boundary above a mark's ``row`` separates: the
    last line of writing above it (at most up to the previous mark's ``previous``
    row) and the mark's own. None when nothing is written above it."""
    above = centres[(centres < row) & (centres >= floor)]
    if above.size:
        return float(above.max()), row
    return None if previous is None else (previous, row)


def _boundary_above(centres: NDArray[np.float64], row: float, floor: float, pitch: float) -> float:
    """Halfway between a mark's row and the row of writing above it; half a pitch up
    when blank space lies above."""
    above = centres[(centres < row - 0.5 * pitch) & (centres >= max(floor, row - 1.8 * pitch))]
    if above.size:
        return float((above.max() + row) / 2)
    return max(floor, row - 0.5 * pitch)


#: Where a boundary sits between two rows, in pitches above the midpoint of their
#: densest rows: writing is densest near its baseline, below the middle of the letters'
#: body, so the midpoint lies a little low. Measured on the tuning pages: the cuts a
#: person drew lay 6.5 px (median, 0.1 pitch) above it.
BOUNDARY_LIFT = 0.1


def _bands(
    text: Gray,
    profile: NDArray[np.float64],
    marks: list[_Mark],
    ceiling: float,
    span: tuple[float, float],
    sizes: tuple[float, float],
) -> list[Band]:
    """Entry bands from the marks: each boundary halfway between the body of a mark's
    row and the body of the row of writing above it (the capture's own pixels place it
    finer: :mod:`station.processing.imaging.boundaries`). ``span``: the table's
    columns the row ``profile`` counts; ``sizes``: the pitch and the letter."""
    pitch, letter = sizes
    centres = _row_centres(profile, pitch)
    rows = _mark_rows(centres, marks, pitch)
    edges: list[float] = []
    between: list[tuple[float, float] | None] = []
    written = _written_centres(text, centres, pitch, letter)
    for index, row in enumerate(rows):
        floor = rows[index - 1] + 0.5 * pitch if index else ceiling
        edges.append(_boundary_above(centres, row, floor, pitch) - BOUNDARY_LIFT * pitch)
        between.append(_lines_around(written, row, floor, rows[index - 1] if index else None))
    bottom = _end_of_writing(profile, marks[-1].bottom, pitch, letter)
    below = centres[(centres > rows[-1]) & (centres <= bottom)]
    bottom = min(bottom, float(below.max() if below.size else rows[-1]) + 0.5 * pitch)
    ends = [*edges[1:], bottom]
    bands = [
        Band(top, end, top_between=lines, mark_top=float(mark.top))
        for top, end, lines, mark in zip(edges, ends, between, marks, strict=True)
    ]
    continued = _continued(text, profile, edges[0], ceiling, span, sizes)
    if continued is not None:
        bands.insert(0, Band(continued, edges[0], continued=True))
    return bands


def _letter_sized(text: Gray, top: float, bottom: float, letter: float) -> bool:
    """Whether the writing between two rows is in letters of the page's size (a title or
    a month heading in large letters is not an entry)."""
    band = np.ascontiguousarray(text[max(0, int(top)) : int(bottom) + 1])
    _, _, stats, _ = cv2.connectedComponentsWithStats(band, connectivity=8)
    heights = np.asarray(stats)[1:, cv2.CC_STAT_HEIGHT]
    return bool(heights.size) and float(heights.max()) <= 3 * letter


def _written_rows(
    profile: NDArray[np.float64], letter: float, floor: float = 0.0
) -> NDArray[np.bool_]:
    return np.asarray(profile > floor + max(1.0, 0.15 * letter))


def _end_of_writing(profile: NDArray[np.float64], start: int, pitch: float, letter: float) -> float:
    """The bottom of the last entry: its writing runs on until a blank gap."""
    written = _written_rows(profile, letter)
    last, gap = start, 0
    for y in range(start, len(profile)):
        if written[y]:
            last, gap = y, 0
        else:
            gap += 1
            if gap > END_GAP_PITCHES * pitch:
                break
    return float(min(len(profile), last + 0.35 * pitch))


def _continued(
    text: Gray,
    profile: NDArray[np.float64],
    first_top: float,
    ceiling: float,
    span: tuple[float, float],
    sizes: tuple[float, float],
) -> float | None:
    """The top of an entry continued from the previous page, when the writing between
    the headings (``ceiling``) and the first mark fills more than one row; a single
    row there is a heading (a month, a year). ``sizes``: the pitch and the letter.

    When that writing holds letters far larger than the page's (a month heading over
    the act's last lines), the act is what lies under its top row (the heading), and
    only inside a table whose column headings are ruled off (``ceiling``: without that
    rule, the top row may be the page's title over entries whose numbers were not
    read) and when it is a row of writing or more: the pieces of letters just above
    the first mark (its line's capitals) are no act. ``span``: the columns ``profile``
    counts.

    What is left of a column rule there (:func:`_less_posts`) is no writing: running
    through the blank between the heading and the act, it made them one run of rows."""
    pitch, letter = sizes
    profile = _less_posts(text, profile, (ceiling, first_top), span, pitch)
    # Without the posts the paper's level there drops, and a dot or a rule's stub of a
    # row or two reads as a run: no row of writing is under half a letter high.
    runs = [
        (top, bottom)
        for top, bottom in _runs_above(profile, first_top, ceiling, pitch, letter)
        if bottom - top + 1 >= 0.5 * letter
    ]
    if len(runs) < 2:
        return None
    top = max(float(ceiling), runs[-1][0] - 0.35 * pitch)
    if _letter_sized(text, top, first_top, letter):
        return top
    under = runs[:-1]
    if ceiling <= 0 or sum(end - start + 1 for start, end in under) < pitch:
        return None
    return (runs[-1][1] + under[-1][0]) / 2


def _less_posts(
    text: Gray,
    profile: NDArray[np.float64],
    rows: tuple[float, float],
    span: tuple[float, float],
    pitch: float,
) -> NDArray[np.float64]:
    """``profile`` less, on ``rows``, the pixels of the upright pieces of ``text`` in
    the ``span`` columns: at least :data:`POST_PITCHES` high and :data:`POST_SLENDER`
    times as high as wide (a column rule's remnant; a stroke of writing is at most a
    few letters high)."""
    top, bottom = max(0, int(rows[0])), max(0, int(rows[1]))
    band = np.ascontiguousarray(text[top:bottom, max(0, int(span[0])) : int(span[1]) + 1])
    if band.size == 0:
        return profile
    _, labels, stats, _ = cv2.connectedComponentsWithStats(band, connectivity=8)
    heights, widths = stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_WIDTH]
    posts = (heights >= POST_PITCHES * pitch) & (heights >= POST_SLENDER * widths)
    posts[0] = False  # the paper
    if not posts.any():
        return profile
    less = profile.copy()
    less[top:bottom] = np.maximum(0.0, less[top:bottom] - posts[labels].sum(axis=1))
    return less


def _runs_above(
    profile: NDArray[np.float64], first_top: float, ceiling: float, pitch: float, letter: float
) -> list[tuple[int, int]]:
    """The rows of writing between the headings and the first mark, from the mark up:
    (top, bottom) of each run of rows less than 0.3 pitch apart, up to a blank of a
    pitch or more."""
    # What is left of the column rules runs down every row (a few pixels a row on a
    # greyscale microfilm): rows of writing stand above it.
    above = profile[max(0, int(ceiling)) : max(int(ceiling) + 1, int(first_top))]
    written = _written_rows(profile, letter, float(np.percentile(above, 10)))
    runs: list[list[int]] = []  # rows of writing, upwards: [top, bottom]
    gap = 0
    for y in range(int(first_top) - 1, max(-1, int(ceiling)), -1):
        if written[y]:
            if runs and gap <= 0.3 * pitch:
                runs[-1][0] = y
            else:
                if runs and gap > END_GAP_PITCHES * pitch:
                    break
                runs.append([y, y])
            gap = 0
        else:
            gap += 1
            if not runs and gap > END_GAP_PITCHES * pitch:
                break
    return [(top, bottom) for top, bottom in runs]


def _confidence(marks: list[_Mark], pitch: float) -> float:
    """High when the marks sit on the writing rows' rhythm (whole pitches apart)."""
    if len(marks) < 2:
        return 0.7
    gaps = np.diff([m.top for m in marks]) / pitch
    off = np.abs(gaps - np.round(gaps))
    return float(np.clip(0.95 - 0.6 * float(np.mean(off)), 0.5, 0.95))
