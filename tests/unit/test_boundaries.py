"""Entry boundaries measured again on the capture's pixels (imaging.boundaries).

The working copy places each boundary between the last line it found above a start
mark and the mark's own line; :func:`boundaries.refine` measures it again on a 300-dpi
capture. These pages are drawn at 300 dpi and the working frame is the capture
reduced three times (``back`` maps it back), as normalisation leaves it.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from station.processing.imaging import boundaries
from station.processing.imaging import geometry as geo
from station.processing.imaging.entries import Band, KeyedEntries

DPI = 300
SCALE = 1 / 3  # working pixels per capture pixel
PITCH = 60  # capture pixels between rows of writing


def _page(lines: list[tuple[int, float, int]]) -> np.ndarray:
    """A capture with a line of writing (baseline, font scale, left x) per item."""
    page = np.full((900, 1500, 3), 245, np.uint8)
    for baseline, size, left in lines:
        cv2.putText(
            page, "Nguyen Thi Huong quy gap", (left, baseline), cv2.FONT_HERSHEY_SIMPLEX,
            size, (40, 40, 40), 3,
        )  # fmt: skip
    return page


def _inked(lines: tuple[list[tuple[str, tuple[int, int], float]], ...]) -> list[np.ndarray]:
    """The ink of each group of (text, origin, font scale) as a mask."""
    layers = []
    for texts in lines:
        layer = np.zeros((900, 1500), np.uint8)
        for text, origin, size in texts:
            cv2.putText(layer, text, origin, cv2.FONT_HERSHEY_SIMPLEX, size, 255, 3)
        layers.append(layer > 0)
    return layers


def _drawn(*inks: np.ndarray) -> np.ndarray:
    """A capture with the ink of each mask (:func:`_inked`) on its paper."""
    page = np.full((900, 1500, 3), 245, np.uint8)
    page[np.logical_or.reduce(inks)] = 40
    return page


def _refined_bands(
    page: np.ndarray, upper: float, lower: float, mark_top: float | None = None
) -> KeyedEntries:
    """Two entries whose boundary lies between working rows ``upper`` and ``lower``,
    refined on ``page`` (``mark_top``: the top of the lower entry's number, working
    rows)."""
    first = Band(0.0, (upper + lower) / 2)
    second = Band((upper + lower) / 2, 290.0, top_between=(upper, lower), mark_top=mark_top)
    found = KeyedEntries([first, second], 10.0, 490.0, (10.0, 60.0), PITCH * SCALE, 1.0)
    refined = boundaries.refine(page, geo.scale(1 / SCALE), found, SCALE, DPI)
    assert refined.bands[0].bottom == refined.bands[1].top
    assert refined.bands[0].bottom_path == refined.bands[1].top_path
    return refined


def _path_keeping_ink_apart(
    refined: KeyedEntries, upper_ink: np.ndarray, lower_ink: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Check that the stepped boundary between the two bands keeps each column's ink on
    its own side, within a pixel; its nodes' columns and rows (capture pixels)."""
    path = refined.bands[1].top_path
    assert path is not None
    xs = np.array([x for x, _ in path]) / SCALE
    rows = (refined.bands[1].top + np.array([off for _, off in path])) / SCALE
    for x in range(30, 1470):
        row = float(np.interp(x, xs, rows))
        assert not upper_ink[int(np.floor(row)) + 1 :, x].any(), (x, row)
        assert not lower_ink[: int(np.ceil(row)), x].any(), (x, row)
    return xs, rows


def _refined(page: np.ndarray, upper: float, lower: float) -> float:
    """The boundary refine puts between working rows ``upper`` and ``lower``."""
    return _refined_bands(page, upper, lower).bands[1].top / SCALE  # capture rows


def _body(baseline: int, size: float) -> tuple[float, float]:
    """Capture rows of the letters' body of a line (x-height band)."""
    return baseline - 22 * size, baseline + 2


def test_the_boundary_between_two_lines_lies_in_the_paper_between_them() -> None:
    page = _page([(300, 1.0, 40), (360, 1.0, 40)])
    boundary = _refined(page, 290 * SCALE, 350 * SCALE)
    assert _body(300, 1.0)[1] < boundary < _body(360, 1.0)[0]


def test_a_line_the_working_copy_missed_stays_with_the_entry_above() -> None:
    # The entry above has a second, smaller line (a continuation row written in the
    # names column only) that the working copy did not find: the boundary is asked
    # for between the entry's first line and the next entry's line, two rows apart.
    # The mark starts the next entry on its own line, so the missed line is the upper
    # entry's: the boundary goes under it, not through it or above it.
    page = _page([(300, 1.0, 40), (358, 0.7, 700), (420, 1.0, 40)])
    boundary = _refined(page, 290 * SCALE, 410 * SCALE)
    assert _body(358, 0.7)[1] < boundary < _body(420, 1.0)[0], boundary


@pytest.mark.parametrize(
    ("row", "left"),
    [
        # rep_randomset1_0073_L-0: a second line of names under the first
        ("Le Van Nam khai", 800),
        # rep_randomset2_2674_L-1: an address continued for three words in the names
        # column of a wide table, about a third of a full line's ink across it and
        # under 0.4 of the range between paper and the lines' bodies
        ("Le Van Nam", 900),
    ],
)
def test_a_missed_line_across_part_of_the_table_stays_with_the_entry_above(
    row: str, left: int
) -> None:
    # The continuation row covers only the last columns, so across the table it is
    # much fainter than the two lines beside it: still a line of writing (gaps above
    # and below it), and the upper entry's.
    full = "Nguyen Thi Huong quy gap Tran Van Binh lam"
    page = np.full((900, 1500, 3), 245, np.uint8)
    for baseline, x, text in ((300, 40, full), (358, left, row), (420, 40, full)):
        cv2.putText(
            page, text, (x, baseline), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (40, 40, 40), 3
        )  # fmt: skip
    boundary = _refined(page, 290 * SCALE, 410 * SCALE)
    assert _body(358, 1.0)[1] < boundary < _body(420, 1.0)[0], boundary


def test_a_boundary_under_a_missed_line_steps_over_a_tall_letter_below_it() -> None:
    # A continuation row with descenders across most of the table, then clear paper,
    # then the next entry's line, whose first letter's ascender rises in a column the
    # row leaves empty to the height of the row's descender tips
    # (rep_randomset1_0073_L-0: "Cession de bail" under a row of names). The boundary
    # goes under the row, and its path steps up over the ascender beside the
    # descenders: kept below the row's lowest ink, it cut the ascender's top off.
    lines = (
        [("Nguyen Thi Huong quy gap Tran Van Binh lam", (40, 300), 1.0),
         ("gia quy phong lang gay quy gap pho", (450, 358), 0.8)],
        [("Hoang Thi Ly khai tai Dong", (40, 440), 1.0)],
    )  # fmt: skip
    upper_ink, lower_ink = _inked(lines)
    ascender = np.zeros_like(lower_ink, np.uint8)
    cv2.line(ascender, (300, 440), (300, 362), 255, 3)
    lower_ink = lower_ink | (ascender > 0)
    descenders = np.nonzero(upper_ink[:, 450:].any(axis=1))[0].max()
    assert descenders > 362 and not upper_ink[320:, 250:350].any()
    page = _drawn(upper_ink, lower_ink)
    refined = _refined_bands(page, 290 * SCALE, 430 * SCALE)
    assert descenders < refined.bands[1].top / SCALE < 424  # under the row, over the line
    _path_keeping_ink_apart(refined, upper_ink, lower_ink)


def test_a_rule_under_one_column_is_no_line_of_writing() -> None:
    # A short rule closes the act above inside its names column; the boundary stays in
    # the middle of the paper between the two lines, where it would be without it.
    page = _page([(300, 1.0, 40), (420, 1.0, 40)])
    plain = _refined(page, 290 * SCALE, 410 * SCALE)
    cv2.line(page, (700, 352), (1200, 352), (40, 40, 40), 4)
    ruled = _refined(page, 290 * SCALE, 410 * SCALE)
    assert abs(ruled - plain) < 0.25 * PITCH, (plain, ruled)
    assert _body(300, 1.0)[1] < ruled < _body(420, 1.0)[0]


@pytest.mark.parametrize("dash", [15, 6])
def test_a_rule_across_the_table_is_the_boundary_wherever_it_lies(dash: int) -> None:
    # A register ruled row by row, its rules faint and broken into dashes and not quite
    # parallel to the writing (the simulator's hand-ruled tables): a person cuts along
    # the rule, not in the middle of the paper, which lies 25 px higher here. Faded
    # further, a dashed rule keeps fragments a fifth of its length (6 px in 30: the
    # simulator's faded, bent spread photographed, whose dashes fall under the ink
    # level but for their darkest pixels).
    page = _page([(300, 1.0, 40), (380, 1.0, 40)])

    def rule(x: float) -> float:
        return 345 + 4 * x / 1500

    for x in range(20, 1480, 30):
        cv2.line(page, (x, round(rule(x))), (x + dash, round(rule(x + dash))), (150, 150, 150), 2)
    plain = _refined(_page([(300, 1.0, 40), (380, 1.0, 40)]), 290 * SCALE, 370 * SCALE)
    assert plain < 335
    refined = _refined_bands(page, 290 * SCALE, 370 * SCALE)
    band = refined.bands[1]
    path = band.top_path or ((0.0, 0.0), (500.0, 0.0))
    xs = np.array([x for x, _ in path]) / SCALE
    rows = (band.top + np.array([off for _, off in path])) / SCALE
    for x in (100, 700, 1400):
        assert abs(np.interp(x, xs, rows) - rule(x)) <= 3, (x, np.interp(x, xs, rows))


def test_a_boundary_steps_round_a_cell_written_higher_than_its_row() -> None:
    # The upper line's first cell is written large, its descenders reaching to row
    # 312; the lower line's name cell starts higher than its row, its capitals from
    # row 311: no straight boundary keeps both whole. The boundary steps up over the
    # capitals and comes back down beside them, under the descenders.
    lines = (
        [("gjpqy gjpqy", (40, 300), 2.0), ("Nguyen Thi Huong", (700, 300), 1.0)],
        [("Le Van Nam", (40, 360), 1.0), ("khai sinh", (600, 360), 1.0),
         ("HUONG", (1000, 352), 2.0)],
    )  # fmt: skip
    upper_ink, lower_ink = _inked(lines)
    capitals = np.nonzero(lower_ink.any(axis=1))[0].min()
    descenders = np.nonzero(upper_ink.any(axis=1))[0].max()
    assert capitals < descenders  # no straight row between them
    page = _drawn(upper_ink, lower_ink)
    refined = _refined_bands(page, 290 * SCALE, 350 * SCALE)
    xs, rows = _path_keeping_ink_apart(refined, upper_ink, lower_ink)
    straight = refined.bands[1].top / SCALE
    assert all(abs(np.interp(x, xs, rows) - straight) < 1.5 for x in (1300, 1400))


@pytest.mark.parametrize(("width", "top"), [(1, 305), (3, 297), (3, 284)])
def test_a_stroke_rising_from_the_lower_line_is_passed_over(width: int, top: int) -> None:
    # A stroke of the lower line rises, in columns where the line above has no ink,
    # to well above where the straight boundary lies: a number's first stroke one
    # pixel wide (rep_randomset2_2674_L-1: the "2" of "620"), which the path crossed
    # where it is thinnest; a superscript reaching within a tenth of a pitch of the
    # upper line's body, whose letters' band ends at row 302 ("Requisit(ion) de
    # notif(ication)" on the same page), which the path, held a tenth of a pitch from
    # each body, crossed at its top; a tall letter rising into the upper line's body
    # rows under a cell that line leaves blank (the "S" of "accept(ation) de S(ucces-
    # si)on"), which the path, held between the bodies, crossed too. Each crossing cut
    # the stroke's top into the entry above: the path goes over it, through any row
    # between the two bodies' centres, and beyond them where the other line has no
    # writing within a pitch.
    upper_ink, lower_ink = _inked(
        ([("Nguyen Thi Huong quy gap", (40, 300), 1.0)], [("LE VAN NAM KHAI", (40, 360), 1.0)])
    )
    stroke = np.zeros_like(lower_ink, np.uint8)
    cv2.line(stroke, (1000, 360), (1000, top), 255, width)
    lower_ink = lower_ink | (stroke > 0)
    assert not upper_ink[:, 900:1100].any()  # room above the stroke's top
    refined = _refined_bands(_drawn(upper_ink, lower_ink), 290 * SCALE, 350 * SCALE)
    assert refined.bands[1].top / SCALE > top  # a straight boundary would cross it
    _path_keeping_ink_apart(refined, upper_ink, lower_ink)


@pytest.mark.parametrize("across", [300, 900])
def test_the_path_keeps_clear_of_the_lower_lines_writing_where_the_paper_allows(
    across: int,
) -> None:
    # A capital of the lower line rises to row 306, over where the straight boundary
    # lies (about 309), in a column where the line above has no writing (300 across) or has some
    # (900, under "Nguyen Thi Huong"). A person draws the cut in the paper above the
    # capital, not along its top (rep_randomset2_2674_L-1: "acceptation de
    # Succession", written a little up in its cell, had its top rows left in the entry
    # above): where the paper is clear the path passes a quarter of a pitch over it;
    # under the upper line's writing it passes between the two, crossing neither.
    upper_ink, lower_ink = _inked(
        ([("Nguyen Thi Huong", (700, 300), 1.0)], [("LE VAN NAM KHAI", (40, 360), 1.0)])
    )
    capital = np.zeros_like(lower_ink, np.uint8)
    cv2.line(capital, (across, 360), (across, 306), 255, 3)
    lower_ink = lower_ink | (capital > 0)
    blank = not upper_ink[:, across - PITCH : across + PITCH].any()
    assert blank == (across == 300)
    refined = _refined_bands(_drawn(upper_ink, lower_ink), 290 * SCALE, 350 * SCALE)
    assert refined.bands[1].top / SCALE > 306  # a straight boundary would cross it
    xs, rows = _path_keeping_ink_apart(refined, upper_ink, lower_ink)
    if blank:
        assert np.interp(across, xs, rows) < 306 - PITCH / 4
        # ... and comes back to the straight boundary past the capital's reach
        assert abs(np.interp(across + PITCH, xs, rows) - refined.bands[1].top / SCALE) < 2


def test_a_letter_crossed_at_its_bar_goes_whole_with_its_own_line() -> None:
    # A "t" of the lower line rises above where the straight boundary lies, its bar
    # lying along that row (rep_randomset2_2674_L-1: "notoriete"). The cheapest way
    # through its ink ran under the bar and down through the stem, leaving the top of
    # the lower line's word above the cut: the path passes over the whole letter, the
    # paper above it being clear.
    upper_ink, lower_ink = _inked(
        ([("Nguyen Thi Huong quy gap", (40, 300), 1.0)], [("LE VAN NAM KHAI", (40, 360), 1.0)])
    )
    plain = _refined(_drawn(upper_ink, lower_ink), 290 * SCALE, 350 * SCALE)
    bar = round(plain)
    letter = np.zeros_like(lower_ink, np.uint8)
    cv2.line(letter, (1000, 360), (1000, bar - 6), 255, 3)
    cv2.line(letter, (980, bar), (1020, bar), 255, 3)
    cv2.line(letter, (1000, 360), (1012, 360), 255, 3)
    lower_ink = lower_ink | (letter > 0)
    assert not upper_ink[:, 950:1050].any()  # room above the letter's top
    refined = _refined_bands(_drawn(upper_ink, lower_ink), 290 * SCALE, 350 * SCALE)
    _path_keeping_ink_apart(refined, upper_ink, lower_ink)


def test_a_stroke_hanging_from_the_upper_line_goes_whole_with_it() -> None:
    # The stem of a "7" at the end of the line above swings down past where the
    # straight boundary lies, to the left (rep_randomset1_0073_L-0: "3.75"), over paper
    # the lower line leaves blank: the path passes under the whole stroke, not across
    # it where it is thinnest.
    upper_ink, lower_ink = _inked(
        ([("Nguyen Thi Huong quy gap", (40, 300), 1.0)], [("LE VAN", (40, 360), 1.0)])
    )
    plain = round(_refined(_drawn(upper_ink, lower_ink), 290 * SCALE, 350 * SCALE))
    last = int(np.nonzero(upper_ink.any(axis=0))[0].max())  # the upper line's end
    stem = np.zeros_like(upper_ink, np.uint8)
    cv2.line(stem, (last - 5, 290), (last - 45, plain + 20), 255, 3)
    upper_ink = upper_ink | (stem > 0)
    assert not lower_ink[:, last - 60 : last + 10].any()  # room under the stem's end
    refined = _refined_bands(_drawn(upper_ink, lower_ink), 290 * SCALE, 350 * SCALE)
    _path_keeping_ink_apart(refined, upper_ink, lower_ink)


@pytest.mark.parametrize("apart", [10, 20])
def test_a_dash_beside_its_lines_writing_goes_with_that_line(apart: int) -> None:
    # A parenthesis hangs from the upper line to row 316 and a dash follows it on row
    # 310, ``apart`` pixels further across, over a capital of the lower line rising to
    # row 322 (rep_randomset1_0073_L-0: "- d° (par Mme) a son mari ( d° -", whose
    # parentheses reach down to the next act's capitals). The dash is too small to side
    # by its own centre; left to the path, the clearance over the capital lifted the
    # path over it and the dash went to the entry below. Level with the parenthesis
    # beside it, it is the upper line's: the path passes under it.
    upper_ink, lower_ink = _inked(
        ([("Nguyen Thi Huong quy gap", (40, 300), 1.0)],
         [("LE VAN NAM KHAI SINH NGUYEN", (40, 360), 1.0)]),
    )  # fmt: skip
    hanging = np.zeros_like(upper_ink, np.uint8)
    cv2.line(hanging, (415, 280), (415, 316), 255, 3)
    cv2.line(hanging, (415 + apart, 310), (435 + apart, 310), 255, 3)
    capital = np.zeros_like(lower_ink, np.uint8)
    cv2.line(capital, (427 + apart, 360), (427 + apart, 322), 255, 3)
    upper_ink, lower_ink = upper_ink | (hanging > 0), lower_ink | (capital > 0)
    refined = _refined_bands(_drawn(upper_ink, lower_ink), 290 * SCALE, 350 * SCALE)
    _path_keeping_ink_apart(refined, upper_ink, lower_ink)


@pytest.mark.parametrize("marked", [True, False])
def test_a_number_written_high_stays_whole_with_its_entry(marked: bool) -> None:
    # The number of the lower entry rises in its column (30-180 across, the key
    # column) to the body of the upper entry's last line, which is written in the
    # names column only (rep_randomset2_2674_L-1: "624", "630", "635"). The path passes
    # over the number, above the upper line's body where that line writes nothing;
    # held between the two lines' bodies it cut the top of the figures into the entry
    # above. Without the number's top (no start mark known) it cannot tell.
    upper_ink, lower_ink = _inked(
        ([("Nguyen Thi Huong quy gap", (450, 300), 1.0)],
         [("627", (40, 334), 1.6), ("LE VAN NAM KHAI", (450, 360), 1.0)])
    )  # fmt: skip
    number_top = int(np.nonzero(lower_ink[:, 30:180].any(axis=1))[0].min())
    assert number_top < 302  # up to the upper line's body
    assert not upper_ink[:, :400].any()
    page = _drawn(upper_ink, lower_ink)
    refined = _refined_bands(page, 290 * SCALE, 350 * SCALE, number_top * SCALE if marked else None)
    if marked:
        _path_keeping_ink_apart(refined, upper_ink, lower_ink)
    else:
        with pytest.raises(AssertionError):
            _path_keeping_ink_apart(refined, upper_ink, lower_ink)


def test_a_continuation_row_cramped_against_the_next_line_stays_with_the_entry_above() -> None:
    # The entry above ends with a continuation row in small script squeezed in over the
    # next entry's line (rep_randomset2_2674_L-1 has a dozen): its descenders reach
    # the row where the next line's capitals start, so the ink between the two never
    # thins to paper and the working copy merged it into the next line. It is still a
    # line of its own: the boundary goes under it (stepping round the descenders),
    # not through it.
    lines = (
        [("Nguyen Thi Huong quy gap Tran Van Binh lam", (40, 300), 1.0),
         ("gia quy phong lang gay", (700, 350), 0.8)],
        [("HOANG THI LY KHAI TAI DONG", (40, 376), 1.0)],
    )  # fmt: skip
    upper_ink, lower_ink = _inked(lines)
    capitals = np.nonzero(lower_ink.any(axis=1))[0].min()
    descenders = np.nonzero(upper_ink.any(axis=1))[0].max()
    assert capitals <= descenders  # no straight row between them
    page = _drawn(upper_ink, lower_ink)
    _path_keeping_ink_apart(_refined_bands(page, 290 * SCALE, 366 * SCALE), upper_ink, lower_ink)


def test_a_boundary_in_clear_paper_stays_straight() -> None:
    page = _page([(300, 1.0, 40), (360, 1.0, 40)])
    first = Band(0.0, 320 * SCALE)
    second = Band(320 * SCALE, 290.0, top_between=(290 * SCALE, 350 * SCALE))
    found = KeyedEntries([first, second], 10.0, 490.0, (10.0, 60.0), PITCH * SCALE, 1.0)
    refined = boundaries.refine(page, geo.scale(1 / SCALE), found, SCALE, DPI)
    assert refined.bands[1].top_path is None and refined.bands[0].bottom_path is None


def test_a_strip_sampled_a_few_rows_at_a_time_is_the_strip_sampled_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A tall strip is sampled in pieces to keep its maps small (a 42-megapixel photo's
    # took 700 MB at once): the pieces make the same strip, pixel for pixel.
    page = _page([(300, 1.0, 40), (360, 1.0, 40), (420, 0.8, 300)])
    found = KeyedEntries([Band(0.0, 290.0)], 10.0, 490.0, (10.0, 60.0), PITCH * SCALE, 1.0, 0.01)
    back = (geo.scale(1 / SCALE), None)
    whole = boundaries._strip(page, back, found, (80.0, 150.0), SCALE)
    monkeypatch.setattr(boundaries, "STRIP_POINTS", 1000)  # under a row of 1,440 points
    pieces = boundaries._strip(page, back, found, (80.0, 150.0), SCALE)
    assert whole.shape == pieces.shape == (210, 1440)
    assert np.array_equal(whole, pieces) and (whole < 100).any()


def test_the_columns_a_lines_writing_holds_are_its_pieces_boxes() -> None:
    # _blank_beyond reads the columns each piece holds pixels in off its box: an
    # 8-connected piece leaves no column between out. Against the pixels themselves.
    rng = np.random.default_rng(5)
    pieces = (rng.random((40, 300)) < 0.08).astype(np.uint8)
    pieces[10:12, 50:90] = 1  # a long stroke, and one that climbs diagonally
    for step in range(20):
        pieces[30 - step, 150 + step] = 1
    count, labels, stats, _ = cv2.connectedComponentsWithStats(pieces, connectivity=8)
    upper = np.arange(count) % 2 == 0
    writing = np.ones(count, bool)
    writing[0] = False
    free_rows = np.arange(15, 25)
    opened = boundaries._blank_beyond(labels.shape, stats, writing, upper, free_rows, 3.0)
    wide = max(1, round(boundaries.OPEN_WIDE * 3.0))
    for side, rows in ((writing & upper, slice(0, 15)), (writing & ~upper, slice(25, 40))):
        inked = side[labels].any(axis=0).astype(np.uint8).reshape(1, -1)
        written = cv2.dilate(inked, np.ones((1, 2 * wide + 1), np.uint8)).ravel() > 0
        assert np.array_equal(opened[rows], np.broadcast_to(~written, opened[rows].shape))
    assert not opened[15:25].any()


@pytest.mark.parametrize("step", [1, 3, 4, 7])
def test_a_node_takes_its_darkest_column_and_is_open_where_all_its_columns_are(
    step: int,
) -> None:
    rng = np.random.default_rng(step)
    costs = rng.random((9, 50)).astype(np.float32)
    opened = rng.random((9, 50)) < 0.8
    nodes = 50 // step
    darkest = costs[:, : nodes * step].reshape(9, nodes, step).max(axis=2)
    every = opened[:, : nodes * step].reshape(9, nodes, step).all(axis=2)
    assert np.array_equal(boundaries._each_node(costs, nodes, step, np.maximum), darkest)
    assert np.array_equal(boundaries._each_node(opened, nodes, step, np.logical_and), every)


def test_a_dash_takes_the_side_of_the_writing_level_with_it_only() -> None:
    # Pieces as connectedComponentsWithStats gives them (left, top, width, height,
    # area); 0 is the paper; a pitch of 60 px, so half a pitch is 30. 1: a word of the
    # upper line (rows 0-29); 2: a letter of the lower line (rows 40-69). Unsided: 3 a
    # dash level with the word, 10 px after it; 4 an accent over the letter (rows
    # 33-37, level with neither); 5 a dash level with the word but 40 px away; 6 a
    # speck level with the word, 5 px after it (no dash: the path's own choice).
    stats = np.array(
        [[0, 0, 200, 70, 0], [0, 0, 50, 30, 900], [60, 40, 20, 30, 300],
         [60, 24, 10, 3, 30], [62, 33, 6, 5, 20], [90, 20, 9, 3, 27], [55, 10, 2, 2, 4]],
        np.int32,
    )  # fmt: skip
    sided = np.array([False, True, True, False, False, False, False])
    upper = np.array([False, True, False, False, False, False, False])
    boundaries._side_by_neighbour(stats, sided, upper, 60.0)
    assert sided.tolist() == [False, True, True, True, False, False, False]
    assert upper.tolist() == [False, True, False, True, False, False, False]
