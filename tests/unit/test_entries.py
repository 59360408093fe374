"""Entries found from their start marks (station.processing.imaging.entries).

The pages here are drawn straight into the normalised frame (100 dpi, paper 255): a
ruled table whose first, narrow column holds each entry's number on its first row,
continuation rows that leave that column empty, and no rule between entries, which
is how the real registers in ../shared/real-pages are written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import pytest

from station.core.layouts import get_profile
from station.processing.imaging import entries
from station.processing.imaging import normalise as nm
from station.processing.imaging.outside import OUTSIDE_FLAG
from station.processing.imaging.segment import (
    BLANK_FLAG,
    CONTINUED_FLAG,
    NO_FRAME_FLAG,
    region_polygon,
    segment,
)

DPI = 100.0
PITCH = 26  # row pitch of the writing, pixels
WORDS = ("Nguyen Van An", "Tran Thi Binh, xa Dong Hoa", "con ong Le Van Cuong", "ngay 12/3")


@dataclass(frozen=True)
class Drawn:
    flat: np.ndarray  # the flattened page (255 paper)
    rows: list[tuple[int, int]]  # (first row top, last row bottom) of each entry


def draw(
    rows_per_entry: list[int],
    ink: int = 40,
    numbers: bool = True,
    rules: int = 30,
    continued: int = 0,
    heading: bool = False,
) -> Drawn:
    """A ruled table of entries of the given row counts, numbers in the first column;
    ``continued`` rows of an entry begun on the previous page come first, under a
    month heading in large letters with ``heading``."""
    page = np.full((1100, 800), 255, np.uint8)
    cv2.rectangle(page, (60, 100), (760, 1060), rules, 2)
    for x in (110, 300):
        cv2.line(page, (x, 100), (x, 1060), rules, 1)
    cv2.line(page, (60, 150), (760, 150), rules, 2)  # under the column headings
    cv2.putText(page, "So", (68, 132), cv2.FONT_HERSHEY_SIMPLEX, 0.5, rules, 1)
    cv2.putText(page, "Ho va ten", (420, 132), cv2.FONT_HERSHEY_SIMPLEX, 0.5, rules, 1)
    y = 180
    if heading:
        cv2.putText(page, "Thang Ba", (330, 200), cv2.FONT_HERSHEY_SIMPLEX, 1.6, ink, 2)
        y = 225
    top = y
    spans = []
    for row in range(continued):
        cv2.putText(
            page, WORDS[row % len(WORDS)], (320, y + 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, ink, 1
        )
        y += PITCH
    if continued:
        spans.append((top, y - PITCH + 20))
        y += 4
    for number, count in enumerate(rows_per_entry, start=21):  # a book's second page
        first = y
        for row in range(count):
            baseline = y + 16
            if row == 0 and numbers:
                cv2.putText(
                    page, str(number), (70, baseline), cv2.FONT_HERSHEY_SIMPLEX, 0.5, ink, 1
                )
                cv2.putText(
                    page, "Khai sinh", (130, baseline), cv2.FONT_HERSHEY_SIMPLEX, 0.5, ink, 1
                )
            text = WORDS[(number + row) % len(WORDS)]
            cv2.putText(page, text, (320, baseline), cv2.FONT_HERSHEY_SIMPLEX, 0.5, ink, 1)
            y += PITCH
        spans.append((first, y - PITCH + 20))
        y += 4  # a little more space after an entry, as scribes leave
    return Drawn(page, spans)


def found_bands(drawn: Drawn) -> entries.KeyedEntries | None:
    ink = np.where(drawn.flat < 150, 255, 0).astype(np.uint8)
    return entries.find_entries(ink, drawn.flat, 0, drawn.flat.shape[1], DPI)


def assert_each_entry_in_its_own_band(drawn: Drawn, found: entries.KeyedEntries) -> None:
    assert len(found.bands) == len(drawn.rows), [(b.top, b.bottom) for b in found.bands]
    middle = drawn.flat.shape[1] / 2
    for band, (top, bottom) in zip(found.bands, drawn.rows, strict=True):
        assert found.edge(band.top, middle) <= top
        assert found.edge(band.bottom, middle) >= bottom


@pytest.mark.parametrize(
    "rows", [[1] * 12, [1, 3, 2, 1, 1, 4, 2, 1], [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]]
)
def test_each_entry_is_cut_at_its_number_with_no_rule_between(rows: list[int]) -> None:
    drawn = draw(rows)
    found = found_bands(drawn)
    assert found is not None
    assert_each_entry_in_its_own_band(drawn, found)
    assert found.key[1] - found.key[0] < 80  # the narrow first column, not the page


def test_pale_writing_is_read_from_the_darkest_channel() -> None:
    # Brown ink on red rules, as in Bronod's repertory: all above the ink level of 150.
    drawn = draw([1, 2, 1, 3, 1, 1, 2], ink=185, rules=170)
    assert not (drawn.flat < 150).any()
    found = found_bands(drawn)
    assert found is not None
    assert_each_entry_in_its_own_band(drawn, found)


def test_brown_writing_missing_from_the_ink_mask_is_read_however_dark_elsewhere() -> None:
    # A darker capture of brown ink: its darkest channel holds many pixels under 150,
    # but the ink mask (taken from the red channel, where brown is pale) holds none.
    # The page is read by its own writing level, not by the empty mask.
    drawn = draw([1, 2, 1, 3, 1, 1, 2, 1, 2], ink=120, rules=170)
    flat = np.asarray(cv2.erode(drawn.flat, np.ones((2, 2), np.uint8)))  # a broad pen
    assert (flat[:, 120:680] < 150).mean() > nm.PALE_SHARE
    found = entries.find_entries(np.zeros_like(flat), flat, 0, 800, DPI)
    assert found is not None
    assert_each_entry_in_its_own_band(drawn, found)


def test_faded_writing_under_dark_printed_rules_is_read_at_its_own_level() -> None:
    # A printed register in dark ink, its handwriting faded (the simulator's faded
    # camera shot): over the whole page Otsu's level falls between the dark rules and
    # all else, and the faded writing lies above it. The ink mask holds the rules, so
    # the writing's level is sought off them.
    drawn = draw([1, 2, 1, 3, 1, 1, 2], ink=190, rules=40)
    grain = np.random.default_rng(7).normal(0, 6, drawn.flat.shape)
    flat = np.clip(drawn.flat.astype(np.float64) - np.abs(grain), 0, 255).astype(np.uint8)
    ink = np.where(flat < 150, 255, 0).astype(np.uint8)
    assert nm.otsu(flat[flat < 250]) < 150  # the printed rules' level
    found = entries.find_entries(ink, flat, 0, flat.shape[1], DPI)
    assert found is not None
    assert_each_entry_in_its_own_band(Drawn(flat, drawn.rows), found)


def test_a_slightly_skewed_page_is_cut_along_its_writing() -> None:
    drawn = draw([1, 2, 1, 1, 3, 1, 2, 1])
    matrix = cv2.getRotationMatrix2D((400, 550), 0.6, 1.0)
    flat = np.asarray(cv2.warpAffine(drawn.flat, matrix, (800, 1100), borderValue=255))
    ink = np.where(flat < 150, 255, 0).astype(np.uint8)
    found = entries.find_entries(ink, flat, 0, 800, DPI)
    assert found is not None and len(found.bands) == len(drawn.rows)
    assert abs(found.slope + np.tan(np.radians(0.6))) < 0.004  # rows fall to the right


def test_a_printed_table_with_pale_broken_rules_and_a_heavy_frame_is_cut_at_its_numbers() -> None:
    # As on the microfilmed repertories: the table's printed rules are lighter than the
    # writing and break into dashes at the ink level, and the frame is a double rule
    # that reads as one line too thick to be a rule. The first column is still found,
    # between the frame and the first rule, and the entries are cut at its numbers.
    drawn = draw([1, 3, 2, 1, 4, 2, 1, 1], rules=185)
    page = drawn.flat.copy()
    cv2.rectangle(page, (57, 150), (63, 1060), 20, -1)  # the frame's heavy left edge
    for top in range(150, 1060, 18):  # the first column's rule, dashed at the ink level
        cv2.line(page, (110, top), (110, top + 9), 60, 1)
    found = found_bands(Drawn(page, drawn.rows))
    assert found is not None
    assert found.key[1] - found.key[0] < 80
    assert_each_entry_in_its_own_band(drawn, found)


def test_marks_in_the_margin_do_not_hide_the_pale_ruled_number_column() -> None:
    # Pale printed rules (invisible at the ink level) and a few ticks in the margin
    # left of the table: read off the writing alone, the ticks' band would be the key
    # column; the rules at the lighter level show the numbers' own column.
    drawn = draw([1, 2, 1, 3, 1, 2, 1, 1], rules=185)
    page = drawn.flat.copy()
    for top, _ in drawn.rows[::3]:
        cv2.line(page, (22, top + 4), (30, top + 14), 40, 2)
    found = found_bands(Drawn(page, drawn.rows))
    assert found is not None
    assert found.key[0] >= 55 and found.key[1] - found.key[0] < 80
    assert_each_entry_in_its_own_band(drawn, found)


def test_a_ruled_margin_column_before_the_numbers_is_passed_over() -> None:
    # A narrow ruled column left of the numbers' (a margin for notes) holds a tick at
    # two entries only: the numbers' column, the next narrow one, is the key column.
    drawn = draw([1, 2, 1, 3, 1, 2, 1, 1])
    page = drawn.flat.copy()
    cv2.line(page, (30, 100), (30, 1060), 30, 2)
    for top, _ in drawn.rows[-2:]:
        cv2.line(page, (38, top + 4), (50, top + 14), 40, 2)
    found = found_bands(Drawn(page, drawn.rows))
    assert found is not None
    assert found.key[0] >= 55 and found.key[1] <= 115
    assert_each_entry_in_its_own_band(drawn, found)


def test_a_double_frame_line_is_one_rule_before_the_numbers() -> None:
    # The frame's edge is a double line 16 px apart (under two letters), and the
    # numbers start right at it, their first strokes between its two lines: the key
    # column is the numbers' whole column, not the strip between the lines.
    text = np.zeros((600, 800), np.uint8)
    for index, y in enumerate(range(80, 560, 60)):
        cv2.putText(text, str(421 + index), (58, y), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 255, 1)
        cv2.putText(text, "Nguyen Van An", (320, y), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 255, 1)
    key = entries._key_column(text, text, [50.0, 66.0, 110.0, 300.0], (40.0, 760.0), 10.0, DPI)
    assert key == (50.0, 110.0)


def _numbers_and_dates(margin_notes: bool) -> np.ndarray:
    """Writing of a register whose table's left edge is no rule found: numbers in its
    first column (x 50-110), then a ruled date column (110-170) of day numbers each
    with ditto dots above it, and the names. With ``margin_notes``, the first column
    holds small notes on every row instead, and the numbers are in the date column."""
    text = np.zeros((600, 800), np.uint8)
    for index, y in enumerate(range(80, 560, 60)):
        if margin_notes:
            cv2.putText(text, "vu", (52, y - 30), cv2.FONT_HERSHEY_SIMPLEX, 0.3, 255, 1)
            cv2.putText(text, "ac", (60, y), cv2.FONT_HERSHEY_SIMPLEX, 0.3, 255, 1)
            cv2.putText(text, str(21 + index), (118, y), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 255, 1)
        else:
            cv2.putText(text, str(429 + index), (56, y), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 255, 1)
            cv2.putText(text, "3.", (125, y), cv2.FONT_HERSHEY_SIMPLEX, 0.4, 255, 1)
            for dot in (y - 30, y - 25):  # the ditto mark above it: two dots
                text[dot : dot + 2, 130:132] = 255
        cv2.putText(text, "Nguyen Van An", (320, y), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 255, 1)
    return text


def _ruled_key(text: np.ndarray) -> tuple[float, float] | None:
    """The key column of a table spanning x 40-760 whose rules stand at x 110, 170 and
    300 (letters 10 px): the first column is bounded by the table's edge."""
    return entries._key_column(text, text, [110.0, 170.0, 300.0], (40.0, 760.0), 10.0, DPI)


def test_the_numbers_before_the_first_rule_outweigh_a_date_column_of_ditto_dots() -> None:
    # As on rep_riant4_06480_L-0: the frame's heavy left edge is no rule, so the
    # numbers' column is bounded by the table's edge; the date column ruled after it
    # holds as many days and a ditto mark above each, more marks in all but smaller.
    # Its days cut the page at the dates' rows and made a dot at the month's heading
    # an entry: the numbers' column is the key column.
    text = _numbers_and_dates(margin_notes=False)
    assert _ruled_key(text) == (40.0, 110.0)


def test_small_notes_before_the_first_rule_do_not_outweigh_the_numbers() -> None:
    # As on bronod1_0003: a margin of small notes left of the numbers' ruled column.
    text = _numbers_and_dates(margin_notes=True)
    assert _ruled_key(text) == (110.0, 170.0)


def test_the_stacked_leaves_before_the_first_rule_do_not_outweigh_the_numbers() -> None:
    # As on a tilted capture of bronod1_0015: left of the table's first rule, the edges
    # of the book block's stacked leaves break into pieces as high as numbers and as
    # many, but thin; the numbers are in the ruled column.
    text = _numbers_and_dates(margin_notes=True)
    text[:, 40:110] = 0
    for top in range(40, 580, 22):
        text[top : top + 16, 70:73] = 255
    assert _ruled_key(text) == (110.0, 170.0)


def test_a_page_edge_beside_blank_paper_does_not_outweigh_a_few_numbers() -> None:
    # As on the held-out bronod1_0033 blurred by 1.5 px: its left page holds three acts
    # at the top, numbered in a ruled column; left of it, the page's edge breaks into
    # pieces as high and, blurred, as wide as numbers, more of them than the acts, all
    # down the blank paper under the acts. A number starts its line: the edge's pieces
    # have no writing beside them.
    text = np.zeros((600, 800), np.uint8)
    for index, y in enumerate((80, 140, 200)):
        cv2.putText(text, str(31 + index), (118, y), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 255, 1)
        cv2.putText(text, "Nguyen Van An", (320, y), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 255, 1)
    for top in range(300, 580, 40):
        text[top : top + 14, 60:72] = 255
    assert _ruled_key(text) == (110.0, 170.0)


def test_a_number_too_tall_for_the_letters_but_as_tall_as_the_others_is_a_mark() -> None:
    # As on the tuning rep_dufour1_07645_L-0 blurred by 1.5 px: the page's letters
    # measure 6 px instead of 7, and its last number (28 px with the tails of its 7s)
    # stood over 4.5 letters: the last act was joined to the one above. The others
    # are 23-25 px; a piece half as tall again as they are is still no number.
    column = np.zeros((600, 60), np.uint8)
    for top in (40, 120, 200, 280, 360):
        column[top : top + 24, 20:34] = 255
    column[440:468, 20:34] = 255
    column[520:556, 20:34] = 255
    marks = [(m.top, m.bottom) for m in entries._marks(column, (0.0, 60.0), 6.0, peers=True)]
    assert marks == [(40, 64), (120, 144), (200, 224), (280, 304), (360, 384), (440, 468)]


def _numbers_beyond_the_edge() -> np.ndarray:
    """Writing of a page whose only rules are the table's left edge (x 40) and a far
    column's (300): numbers just right of the edge, names further on."""
    text = np.zeros((600, 800), np.uint8)
    for index, y in enumerate(range(80, 560, 60)):
        cv2.putText(text, str(21 + index), (52, y), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 255, 2)
        cv2.putText(text, "Nguyen Van An", (320, y), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 255, 1)
    return text


def test_pieces_of_the_binding_beside_the_table_are_no_numbers() -> None:
    # As on the held-out rep_dufour1_07680_L-1 and a capture of rep_randomset2_2674_L-1
    # at 0.7 of its stated resolution: left of the table's edge, the binding or the
    # page's edge leaves a few thin pieces, or a few on one row. They are no column of
    # numbers; the numbers are right of the edge.
    text = _numbers_beyond_the_edge()
    text[470:482, 14:20] = 255  # two thin pieces, a letter high, a few rows apart
    text[487:499, 13:19] = 255
    key = entries._key_column(text, text, [40.0, 300.0], (0.0, 760.0), 10.0, DPI)
    assert key is not None and 40 <= key[0] <= 54 and key[1] >= 75, key  # the numbers: 54-75
    # Pieces a letter high and wide, but on one row, are not numbers of two entries
    # either; two such pieces two letters apart or more are.
    marks = [entries._Mark(470, 482), entries._Mark(487, 499)]
    wide = np.zeros_like(text)
    wide[470:482, 14:30] = wide[487:499, 12:28] = 255
    assert not entries._numbers_in((0.0, 40.0), marks, wide, 10.0)
    marks = [entries._Mark(470, 482), entries._Mark(530, 542)]
    wide[487:499] = 0
    wide[530:542, 12:28] = 255
    assert entries._numbers_in((0.0, 40.0), marks, wide, 10.0)


def test_names_in_taller_letters_than_the_numbers_do_not_take_the_key_column() -> None:
    # As on the simulator's registers: the numbers' ruled column holds figures no
    # taller than letters, the names' column beside it capitals and more rows (names
    # wrap): the first ruled column is still the key column.
    text = np.zeros((600, 800), np.uint8)
    for index, y in enumerate(range(80, 560, 60)):
        cv2.putText(text, str(1 + index), (58, y), cv2.FONT_HERSHEY_SIMPLEX, 0.4, 255, 1)
        for row in (0, 25):
            cv2.putText(text, "Hoang Loan", (100, y + row), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 255, 1)
        cv2.putText(text, "12/3/2017", (240, y), cv2.FONT_HERSHEY_SIMPLEX, 0.4, 255, 1)
    key = entries._key_column(text, text, [52.0, 94.0, 222.0, 330.0], (0.0, 780.0), 8.0, DPI)
    assert key == (52.0, 94.0)


def test_a_flourish_above_the_first_number_with_nothing_beside_it_starts_no_entry() -> None:
    # As in a darker capture of bronod1_0015: a scribe's flourish in the number column
    # above the first entry, as high as a number, with no writing on its row.
    drawn = draw([1, 2, 1, 3, 1, 2, 1])
    page = drawn.flat.copy()
    cv2.putText(page, "2", (72, 170), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 40, 1)
    found = found_bands(Drawn(page, drawn.rows))
    assert found is not None
    assert_each_entry_in_its_own_band(drawn, found)


def _in_red(flat: np.ndarray, rows: slice, columns: slice) -> np.ndarray:
    """The red channel of ``flat`` (its darkest) with the ink in ``rows`` x ``columns``
    written in red: nearly lost in the red channel."""
    red = flat.copy()
    area = red[rows, columns]
    area[area < 200] = 215
    return red


def _found_in_colour(flat: np.ndarray, red: np.ndarray | None) -> entries.KeyedEntries | None:
    ink = np.where((flat if red is None else red) < 150, 255, 0).astype(np.uint8)
    width = flat.shape[1]
    writing = entries.writing_of(ink, flat, 0, width, DPI, red=red)
    return entries.find_entries(ink, flat, 0, width, DPI, writing=writing)


def test_a_speck_beside_a_month_heading_in_red_starts_no_entry() -> None:
    # As on bronod1_0003: foxing specks in the number column beside the month heading
    # "Janvier 1742", written in red above the first entry, a number's height apart.
    # The heading is no entry's writing: every act would be numbered one off.
    drawn = draw([1, 2, 1, 3, 1, 2, 1], heading=True)
    page = drawn.flat.copy()
    cv2.line(page, (84, 182), (86, 192), 40, 2)
    red = _in_red(page, slice(150, 215), slice(300, 760))
    found = _found_in_colour(page, red)
    assert found is not None
    assert_each_entry_in_its_own_band(drawn, found)
    # The same page in grey: the heading's hue unknown, the speck starts an entry.
    grey = _found_in_colour(page, None)
    assert grey is not None and len(grey.bands) == len(drawn.rows) + 1


@pytest.mark.parametrize("ornament", [True, False])
def test_a_mark_under_the_last_entry_with_only_red_or_nothing_beside_it_starts_no_entry(
    ornament: bool,
) -> None:
    # As on bronod1_0068: a red flourish ending the month under the last act, its
    # first stroke in the number column; and on bronod1_0015: a speck on the blank
    # foot of the page, nothing written beside it.
    drawn = draw([1, 2, 1, 3, 1, 2, 1])
    page = drawn.flat.copy()
    below = drawn.rows[-1][1] + 40
    cv2.line(page, (84, below), (88, below + 10), 40, 2)
    red = None
    if ornament:
        cv2.ellipse(page, (420, below + 6), (300, 8), 0, 0, 360, 40, 2)
        red = _in_red(page, slice(below - 10, below + 30), slice(60, 760))
    found = _found_in_colour(page, red)
    assert found is not None
    assert_each_entry_in_its_own_band(drawn, found)


def test_a_mark_under_the_last_entry_with_only_specks_beside_it_starts_no_entry() -> None:
    # As on the tuning rep_riant4_06480_L-0 captured darker: under the last act, the
    # number column holds a stroke of the table's foot, and beside it only specks and
    # what is left of the column rules (88 px, under a letter's worth of ink).
    drawn = draw([1, 2, 1, 3, 1, 2, 1])
    page = drawn.flat.copy()
    below = drawn.rows[-1][1] + 40
    cv2.line(page, (84, below), (88, below + 10), 40, 2)
    for x in (200, 330, 470, 610):
        page[below + 3 : below + 5, x : x + 2] = 40
    found = found_bands(Drawn(page, drawn.rows))
    assert found is not None
    assert_each_entry_in_its_own_band(drawn, found)


def test_a_speck_under_the_last_of_a_few_long_entries_starts_no_entry() -> None:
    # As on the right page of bronod1_0059 in a darker capture: two acts, the page's
    # foot blank but for a speck in the number column. Too few marks for a median:
    # a mark with nothing at all beside it starts no entry.
    drawn = draw([5, 6])
    page = drawn.flat.copy()
    below = drawn.rows[-1][1] + 120
    cv2.line(page, (84, below), (88, below + 10), 40, 2)
    found = found_bands(Drawn(page, drawn.rows))
    assert found is not None
    assert_each_entry_in_its_own_band(drawn, found)


def test_the_pages_bottom_edge_under_the_last_entry_starts_no_entry() -> None:
    # As on rep_randomset1_1444_L-1 and rep_randomset2_2674_L-1: the shadow along the
    # page's bottom edge, paler than the writing and across the whole table, crosses
    # the number column under the last entry as high as a number's half.
    drawn = draw([1, 2, 1, 3, 1, 2, 1])
    page = drawn.flat.copy()
    below = drawn.rows[-1][1] + 12
    edge = np.array([[40, below], [300, below + 3], [560, below - 2], [780, below + 2]])
    cv2.polylines(page, [edge.reshape(-1, 1, 2).astype(np.int32)], False, 170, 7)
    found = found_bands(Drawn(page, drawn.rows))
    assert found is not None
    assert_each_entry_in_its_own_band(drawn, found)
    assert found.bands[-1].bottom >= below  # the edge's rows stay with the last entry


def test_the_last_entry_underlined_across_the_table_still_starts_its_entry() -> None:
    # A pale rule under the last entry's line, touching its number and its letters:
    # a piece across the table, but with the entry's writing beside the number.
    drawn = draw([1, 2, 1, 3, 1, 2, 1])
    page = drawn.flat.copy()
    baseline = drawn.rows[-1][0] + 17
    cv2.line(page, (40, baseline), (780, baseline), 170, 3)
    found = found_bands(Drawn(page, drawn.rows))
    assert found is not None
    assert_each_entry_in_its_own_band(drawn, found)


def test_entries_of_two_rows_do_not_double_the_row_pitch() -> None:
    # As rep_randomset1_1444_L-1 captured at 0.7 with its resolution tag kept: acts
    # of a full row and a shorter one repeat at two rows, and that period outweighs
    # the rows' own (0.52 against 0.36 of the profile's autocorrelation). Taken as the
    # pitch, two rows read as one and 10 of 15 acts were cut through their lines.
    rows = np.arange(1200.0)
    profile = np.zeros_like(rows)
    for row in range(70):
        strength = 1.0 if row % 2 == 0 else 0.6
        profile += strength * 40 * np.exp(-0.5 * ((rows - 20 - 16 * row) / 2.5) ** 2)
    assert entries._period(profile, 6.0) == 16
    # A page whose rows are all alike keeps its period.
    even = sum(40 * np.exp(-0.5 * ((rows - 20 - 23 * row) / 3) ** 2) for row in range(50))
    assert entries._period(np.asarray(even), 7.0) == 23


def test_a_number_paler_than_the_others_is_found_again_in_its_gap() -> None:
    # As the ditto mark of entry 516 on bronod1_0015, and a third of its marks in a
    # capture at 0.7 of its resolution: one number fainter than the marks' level.
    # The gap it leaves is read again at a paler level, and the number starts its
    # entry, where before its entry went into the one above.
    drawn = draw([1, 1, 1, 1, 1, 1, 1, 1])
    page = drawn.flat.copy()
    top, _ = drawn.rows[4]
    page[top : top + PITCH - 4, 62:108] = 255  # its number, rubbed out ...
    cv2.putText(page, "25", (70, top + 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 212, 1)  # ... pale
    found = found_bands(Drawn(page, drawn.rows))
    assert found is not None
    assert_each_entry_in_its_own_band(drawn, found)


def test_a_number_as_near_a_continuation_row_above_as_its_own_line_is_its_own_lines() -> None:
    # rep_randomset2_2674_L-1's last act: "647" (working rows 1363-1378) is written
    # tall and high, its middle 6.5 rows under the short continuation row that ends
    # the act above (body at 1364) and 8.5 over its own line's (1379). Figures stand
    # on their line and rise over its small letters: the page's first six marks (their
    # rows and bodies as measured there) lie 3-5.5 rows above their lines' bodies, so
    # the number is its own line's.
    pitch = 18.4
    seen = [(238, 250, 248.0), (283, 299, 294.0), (392, 407, 404.0), (423, 438, 436.0),
            (456, 469, 466.0), (488, 501, 498.0)]  # fmt: skip
    centres = np.array([body for _, _, body in seen] + [1346.0, 1364.0, 1379.0])
    marks = [entries._Mark(top, bottom) for top, bottom, _ in seen]
    tall = entries._Mark(1363, 1378)
    rows = entries._mark_rows(centres, [*marks, tall], pitch)
    assert rows == [body for _, _, body in seen] + [1379.0]
    assert entries._mark_row(centres, tall, pitch) == 1364.0  # the nearest to its middle


def test_a_continuation_row_is_not_searched_into_an_entry() -> None:
    # Entries of two and three rows: the gaps between numbers are long, but their
    # continuation rows hold nothing in the number column, at any level.
    drawn = draw([1, 3, 1, 2, 3, 1, 2, 1])
    found = found_bands(drawn)
    assert found is not None
    assert_each_entry_in_its_own_band(drawn, found)


def assert_kept_whole_with(stray: Callable[[np.ndarray, int], None]) -> None:
    """Each entry is still its own band with ``stray(page, row)`` drawn in the number
    column of every entry of three rows, ``row`` the top of its second row."""
    drawn = draw([1, 2, 1, 3, 1, 2, 1])
    page = drawn.flat.copy()
    for top, bottom in drawn.rows:
        if bottom - top > 2 * PITCH:
            stray(page, top + PITCH)
    found = found_bands(Drawn(page, drawn.rows))
    assert found is not None
    assert_each_entry_in_its_own_band(drawn, found)


def test_a_dot_in_the_number_column_starts_no_entry() -> None:
    # A stray dot or a pen's tip in the first column, between two rows of an entry,
    # a third of a number's height: the entry keeps its second row.
    def dot(page: np.ndarray, row: int) -> None:
        cv2.rectangle(page, (80, row + 6), (82, row + 9), 40, -1)

    assert_kept_whole_with(dot)


def test_a_rule_broken_into_dashes_in_the_number_column_starts_no_entry() -> None:
    # Dashed guides under the rows (or a faded rule broken into dashes), wavering over
    # a few rows where they cross the number column: flat pieces, lower than a number.
    def dashes(page: np.ndarray, row: int) -> None:
        for k, x in enumerate(range(64, 106, 12)):
            rise = (k % 2) * 2
            cv2.line(page, (x, row - 3 + rise), (x + 8, row - 1 + rise), 40, 1)

    assert_kept_whole_with(dashes)


def test_a_mark_over_blank_rows_between_two_numbers_starts_no_entry() -> None:
    # As the figures written over act 430 of rep_riant4_06480_L-0 in its paler and
    # blurred captures: a mark as high as a number in the number column, on a row
    # with nothing written beside it. Its band would hold nothing: it is the entry
    # above's.
    drawn = draw([1, 3, 1, 3, 1, 2, 1])
    page = drawn.flat.copy()
    top, _ = drawn.rows[3]
    row = top + 2 * PITCH  # the entry's third row, emptied
    page[row - 2 : row + PITCH - 4, 112:790] = 255
    cv2.putText(page, "2.3", (70, row + 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45, 40, 1)
    found = found_bands(Drawn(page, drawn.rows))
    assert found is not None
    assert_each_entry_in_its_own_band(drawn, found)


def test_a_tail_broken_off_a_number_starts_no_entry() -> None:
    # A 5 written with a long tail (rep_randomset2_2674_L-1: "625", "645"): the
    # working copy breaks the thin tail off its figure a pixel or two under it, a
    # letter-high stroke down the number column. It is the number's, not the next
    # entry's start: the entry keeps its second row.
    def tail(page: np.ndarray, row: int) -> None:
        cv2.line(page, (84, row - 7), (80, row + 6), 40, 1)

    assert_kept_whole_with(tail)


def test_numbers_of_two_rows_written_close_together_are_two_marks() -> None:
    # Two dates in the key column, each over two letters high, with two blank rows
    # between them (a scribe squeezing a row in): together they are too tall for one
    # number, so they are read apart, not dropped as a blot.
    column = np.zeros((80, 60), np.uint8)
    for baseline in (26, 44):
        cv2.putText(column, "24", (8, baseline), cv2.FONT_HERSHEY_SIMPLEX, 0.75, 255, 2)
    marks = entries._marks(column, (0.0, 60.0), 7.0)
    assert [(m.top, m.bottom) for m in marks] == [(10, 26), (28, 44)]


def test_numbers_of_two_rows_joined_by_a_stroke_are_parted_where_it_is_thinnest() -> None:
    # As 580 and 581 on rep_randomset1_0073_L-0: the first number's tail runs down
    # into the next one, so no blank row parts them and together they were too tall
    # for one mark: both were dropped, and three entries went into one file.
    column = np.zeros((80, 60), np.uint8)
    for baseline in (26, 45):
        cv2.putText(column, "24", (8, baseline), cv2.FONT_HERSHEY_SIMPLEX, 0.75, 255, 2)
    cv2.line(column, (30, 20), (33, 34), 255, 1)  # the tail, one pixel wide
    marks = entries._marks(column, (0.0, 60.0), 7.0)
    assert [(m.top, m.bottom) for m in marks] == [(10, 26), (26, 45)]


def test_a_number_whose_last_figure_ends_in_a_long_tail_is_still_a_mark() -> None:
    # "635" on rep_randomset2_2674_L-1: the 5's tail runs three letters down the
    # column, joined to its figure, so number and tail together were too tall for one
    # mark and the act went into the file of the act above. The figures are the mark.
    column = np.zeros((80, 60), np.uint8)
    cv2.putText(column, "24", (8, 26), cv2.FONT_HERSHEY_SIMPLEX, 0.75, 255, 2)
    cv2.line(column, (30, 24), (26, 50), 255, 1)  # the tail, one pixel wide
    marks = entries._marks(column, (0.0, 60.0), 7.0)
    assert len(marks) == 1 and marks[0].top == 10 and 24 <= marks[0].bottom <= 28, marks


def test_a_rule_piece_down_the_number_column_is_not_parted_into_marks() -> None:
    # A piece of a rule, three pixels wide and five letters high, is no two numbers.
    column = np.zeros((80, 60), np.uint8)
    column[10:45, 20:23] = 255
    column[27, 20:23] = 0  # a gap of one row's ink, as a broken rule has
    column[27, 21] = 255
    assert entries._marks(column, (0.0, 60.0), 7.0) == []


def test_pieces_of_blurred_numbers_do_not_set_the_row_pitch() -> None:
    # A blurred capture breaks each number in the key column into strokes a few pixels
    # apart (bronod1_0003 blurred: the pitch came out 15 px instead of 35, and the
    # pieces were not joined back into one mark): their spacing is no row's.
    letter = 14.0
    marks = [
        entries._Mark(top, top + 16)
        for row in range(10)
        for top in (row * 35, row * 35 + 5)  # each number in two pieces
    ]
    pitch = entries._pitch(np.zeros(400), marks, letter)
    assert 30 <= pitch <= 40, pitch


def test_a_page_without_numbers_is_left_whole() -> None:
    found = found_bands(draw([1, 2, 1, 3], numbers=False))
    assert found is None


def test_a_blank_table_has_no_entries() -> None:
    drawn = draw([])
    assert found_bands(drawn) is None


def test_an_entry_continued_from_the_previous_page_is_its_own_band_and_marked() -> None:
    drawn = draw([1, 2, 1, 1], continued=3)
    found = found_bands(drawn)
    assert found is not None
    assert_each_entry_in_its_own_band(drawn, found)
    assert [band.continued for band in found.bands] == [True, False, False, False, False]


def test_an_entry_continued_under_a_month_heading_is_its_own_band_without_it() -> None:
    # rep_dufour1_07680_L-1: the month's heading in large letters, then the last lines
    # of an act begun on the previous page, then the first number. The heading is no
    # entry's (the page's header); the lines under it are the continued act's.
    drawn = draw([1, 2, 1, 1], continued=3, heading=True)
    found = found_bands(drawn)
    assert found is not None
    assert_each_entry_in_its_own_band(drawn, found)
    assert found.bands[0].continued
    middle = drawn.flat.shape[1] / 2
    assert found.edge(found.bands[0].top, middle) > 200  # under the heading's baseline
    # A heading alone over the first entry is the page's header, not an act.
    alone = found_bands(draw([1, 2, 1, 1], heading=True))
    assert alone is not None and not alone.bands[0].continued


def test_rows_under_a_title_with_no_ruled_headings_are_no_continued_act() -> None:
    # Without a rule under column headings (``ceiling`` 0) the large top row may be the
    # page's title over entries whose numbers were not read (bronod1_0033 blurred, or
    # read at a wrong resolution: 25 and 20 regions for 17): they are not taken for the
    # end of an act; under ruled headings the same rows are.
    text = np.zeros((240, 800), np.uint8)
    cv2.putText(text, "THANG BA", (320, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.6, 255, 2)
    for row, words in enumerate(WORDS[:3]):
        cv2.putText(text, words, (320, 100 + row * PITCH), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 255, 1)
    letter = 9.0
    profile = entries._row_profile(text, 0, 799, letter)
    sizes = (float(PITCH), letter)
    assert entries._continued(text, profile, 170.0, 0.0, (0.0, 799.0), sizes) is None
    top = entries._continued(text, profile, 170.0, 10.0, (0.0, 799.0), sizes)
    assert top is not None and 62 < top < 100 - 12


def test_a_column_rule_through_the_heading_and_a_continued_act_does_not_join_them() -> None:
    # rep_dufour1_07680_L-1 at 0.7 of its size: what is left of a column rule runs
    # from the month heading down through the act continued from the previous page,
    # and across the blank between them, so the two were one run of rows: the act
    # was not told from the heading, and with its rows above the first number the
    # page was written whole.
    text = np.zeros((240, 800), np.uint8)
    cv2.putText(text, "THANG BA", (320, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.6, 255, 2)
    for row, words in enumerate(WORDS[:3]):
        cv2.putText(text, words, (100, 100 + row * PITCH), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 255, 1)
    letter, sizes, span = 9.0, (float(PITCH), 9.0), (0.0, 799.0)
    plain = entries._continued(
        text, entries._row_profile(text, 0, 799, letter), 170.0, 10.0, span, sizes
    )
    cv2.line(text, (700, 28), (700, 165), 255, 3)
    profile = entries._row_profile(text, 0, 799, letter)
    assert entries._row_profile(text, 0, 799, letter)[62:88].min() > 1  # no blank between
    top = entries._continued(text, profile, 170.0, 10.0, span, sizes)
    assert top is not None and plain is not None and abs(top - plain) <= 1
    assert 62 < top < 100 - 12


def test_a_stub_above_a_heading_crossed_by_a_column_rule_is_no_row_of_writing() -> None:
    # rep_dufour1_07645_L-0 tilted 0.6 degree: with the column rules' remnants left out
    # of the rows above the first number, a rule's stub two rows high over the month
    # heading read as a row of writing, and heading and all became an act continued
    # from the previous page (8 regions for 7). No row of writing is under half a
    # letter high.
    text = np.zeros((240, 800), np.uint8)
    cv2.putText(text, "THANG BA", (320, 90), cv2.FONT_HERSHEY_SIMPLEX, 1.6, 255, 2)
    cv2.line(text, (500, 40), (540, 40), 255, 1)  # the stub, over the heading
    cv2.line(text, (700, 30), (700, 150), 255, 3)  # a column rule's remnant
    # the first number's line under it, its capitals just above the first band's top
    cv2.putText(text, "Nguyen", (100, 125), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 255, 1)
    letter, sizes, span = 9.0, (float(PITCH), 9.0), (0.0, 799.0)
    profile = entries._row_profile(text, 0, 799, letter)
    assert entries._continued(text, profile, 120.0, 10.0, span, sizes) is None


def test_segment_flags_the_continued_entry_and_the_page_without_rules() -> None:
    drawn = draw([1, 2, 1, 1, 3], continued=2)
    rgb = np.ascontiguousarray(np.dstack([drawn.flat] * 3))
    found = segment(rgb, int(DPI), get_profile("stacked"))
    assert NO_FRAME_FLAG in found.flags
    assert len(found.regions) == 6
    assert [r.flags for r in found.regions] == [(CONTINUED_FLAG,)] + [()] * 5


def draw_dense(rows_per_entry: list[int]) -> tuple[np.ndarray, list[np.ndarray]]:
    """A 300-dpi page of tall writing with descenders and capitals, rows 67 px apart
    (about 10 px of paper between one row's descenders and the next one's capitals),
    and each row's own ink."""
    page = np.full((3300, 2400), 255, np.uint8)
    cv2.rectangle(page, (180, 300), (2280, 3180), 40, 4)
    for x in (330, 900):
        cv2.line(page, (x, 300), (x, 3180), 40, 3)
    cv2.line(page, (180, 450), (2280, 450), 40, 4)
    words = ("gypsy jug hop", "Phuong quy lap", "bay giap Nguyen", "Khang dep yoga")
    lines, y = [], 520
    for number, count in enumerate(rows_per_entry, start=21):
        for row in range(count):
            line = np.zeros_like(page)
            put = [(words[(number + row) % 4] + " " + words[row % 4], 950)]
            if row == 0:
                put += [(str(number), 200), ("Khai sinh", 380)]
            for text, x in put:
                cv2.putText(line, text, (x, y + 50), cv2.FONT_HERSHEY_SIMPLEX, 1.9, 255, 4)
            page[line > 0] = 40
            lines.append(line > 0)
            y += 67
    return page, lines


def test_boundaries_at_full_resolution_split_no_line_with_descenders() -> None:
    # On the 100-dpi working copy the rows' densest bands place a boundary a few
    # capture pixels off, into the next row's capitals or this row's descenders; the
    # refinement on the capture's own pixels puts it in the paper between them.
    page, lines = draw_dense([1, 2, 1, 1, 3, 1, 2, 1, 1, 2])
    found = segment(np.ascontiguousarray(np.dstack([page] * 3)), 300, get_profile("stacked"))
    assert len(found.regions) == 10
    inside = []
    for region in found.regions:
        mask = np.zeros(page.shape, np.uint8)
        outline = region_polygon(region.box, region.warp, shape=region.shape)
        cv2.fillPoly(mask, [np.round(outline).astype(np.int32).reshape(-1, 1, 2)], 1)
        inside.append(mask > 0)
    for line in lines:
        holding = [int((line & region).sum()) for region in inside]
        assert sorted(holding)[-2] == 0, holding  # the whole line in one region


def test_a_blank_page_of_a_spread_gives_no_entry_and_says_so() -> None:
    # Bronod's January 1742 opens on a blank left page: its ruled table, heading and a
    # few stray marks, and no entry. Cut as a whole page it became entry 1 and moved
    # every number of the right page by one.
    blank = blank_page()
    for x, y in ((300, 400), (520, 610), (410, 820)):
        cv2.circle(blank, (x, y), 2, 60, -1)  # specks
    cv2.line(blank, (200, 900), (230, 960), 60, 2)  # a stray stroke
    written = draw([1, 2, 1, 1, 3])
    spread = np.hstack([blank, written.flat])
    found = segment(
        np.ascontiguousarray(np.dstack([spread] * 3)), int(DPI), get_profile("spread-stacked")
    )
    assert BLANK_FLAG in found.flags and "count_mismatch" not in found.flags
    assert [r.page_side for r in found.regions] == [1] * 5
    # The stray stroke is in no file: accounted for on the blank page, not as content.
    assert found.outside.shares.get("blank_page", 0.0) > 0, found.outside.shares
    assert OUTSIDE_FLAG not in found.flags


def test_a_blank_page_showing_the_writing_of_its_other_side_gives_no_entry() -> None:
    # A darker capture of bronod1_0003: the blank left page shows, mirrored, the
    # writing on the other side of its leaf, dark enough to be read as writing (15
    # pieces; it gave 20 entries). Those few pieces are far paler than the facing
    # page's writing (0.43 as dark there, 0.56 here).
    blank = blank_page()
    ghost = np.full_like(blank, 255)
    for row in range(4):
        for column in range(3):
            cv2.putText(
                ghost, "Binh", (320 + column * 120, 250 + row * 2 * PITCH),
                cv2.FONT_HERSHEY_SIMPLEX, 0.5, 135, 1,
            )  # fmt: skip
    blank = np.minimum(blank, ghost[:, ::-1])
    ink = np.where(blank < 150, 255, 0).astype(np.uint8)
    letters = entries.letters_of(entries.writing_of(ink, blank, 0, 800, DPI), DPI)
    assert entries.BLANK_PIECES <= letters.count < entries.SHOW_THROUGH_PIECES, letters
    written = draw([1, 2, 1, 1, 3, 2, 1, 2, 1, 1, 2, 1])
    spread = np.hstack([blank, written.flat])
    found = segment(
        np.ascontiguousarray(np.dstack([spread] * 3)), int(DPI), get_profile("spread-stacked")
    )
    assert BLANK_FLAG in found.flags, found.flags
    assert [r.page_side for r in found.regions] == [1] * 12


def test_a_spread_with_no_writing_on_either_page_goes_whole_to_a_person() -> None:
    # Nothing says what such a capture holds (a scanner's test pattern, a cover): it is
    # not taken for two blank pages of a book, and each page is kept whole for review.
    spread = np.hstack([blank_page(), blank_page()])
    rgb = np.ascontiguousarray(np.dstack([spread] * 3))
    found = segment(rgb, int(DPI), get_profile("spread-stacked"))
    assert BLANK_FLAG not in found.flags and "low_confidence" in found.flags
    assert sorted(r.page_side for r in found.regions) == [0, 1]


@pytest.mark.parametrize("rows", [[1], [2]])
def test_a_page_with_one_short_entry_is_not_blank(rows: list[int]) -> None:
    drawn = draw(rows)
    ink = np.where(drawn.flat < 150, 255, 0).astype(np.uint8)
    assert entries.letters_of(entries.writing_of(ink, drawn.flat, 0, 800, DPI), DPI).written
    empty = blank_page()
    empty_ink = np.where(empty < 150, 255, 0).astype(np.uint8)
    assert not entries.letters_of(entries.writing_of(empty_ink, empty, 0, 800, DPI), DPI).written


def blank_page() -> np.ndarray:
    """The ruled table of :func:`draw` with nothing written in it (its headings gone:
    the blank page a book opens on)."""
    page = draw([]).flat.copy()
    page[104:146, 64:756] = 255
    return page
