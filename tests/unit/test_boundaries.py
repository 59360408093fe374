"""Entry boundaries measured again on the capture's pixels (imaging.boundaries).

The working copy places each boundary between the last line it found above a start
mark and the mark's own line; :func:`boundaries.refine` measures it again on a 300-dpi
capture. These pages are drawn at 300 dpi and the working frame is the capture
reduced three times (``back`` maps it back), as normalisation leaves it.
"""

from __future__ import annotations

import cv2
import numpy as np

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


def _refined(page: np.ndarray, upper: float, lower: float) -> float:
    """The boundary refine puts between working rows ``upper`` and ``lower``."""
    first = Band(0.0, (upper + lower) / 2)
    second = Band((upper + lower) / 2, 290.0, top_between=(upper, lower))
    found = KeyedEntries([first, second], 10.0, 490.0, (10.0, 60.0), PITCH * SCALE, 1.0)
    back = geo.scale(1 / SCALE)
    refined = boundaries.refine(page, back, found, SCALE, DPI)
    assert refined.bands[0].bottom == refined.bands[1].top
    return refined.bands[1].top / SCALE  # capture rows


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


def test_a_missed_line_across_part_of_the_table_stays_with_the_entry_above() -> None:
    # The continuation row covers only the last columns (rep_randomset1_0073_L-0: a
    # second line of names under the first), so across the table it is much fainter
    # than the two lines beside it: still a line of writing, and the upper entry's.
    full = "Nguyen Thi Huong quy gap Tran Van Binh lam"
    page = np.full((900, 1500, 3), 245, np.uint8)
    for baseline, left, text in ((300, 40, full), (358, 800, "Le Van Nam khai"), (420, 40, full)):
        cv2.putText(
            page, text, (left, baseline), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (40, 40, 40), 3
        )  # fmt: skip
    boundary = _refined(page, 290 * SCALE, 410 * SCALE)
    assert _body(358, 1.0)[1] < boundary < _body(420, 1.0)[0], boundary


def test_a_rule_under_one_column_is_no_line_of_writing() -> None:
    # A short rule closes the act above inside its names column; the boundary stays in
    # the middle of the paper between the two lines, where it would be without it.
    page = _page([(300, 1.0, 40), (420, 1.0, 40)])
    plain = _refined(page, 290 * SCALE, 410 * SCALE)
    cv2.line(page, (700, 352), (1200, 352), (40, 40, 40), 4)
    ruled = _refined(page, 290 * SCALE, 410 * SCALE)
    assert abs(ruled - plain) < 0.25 * PITCH, (plain, ruled)
    assert _body(300, 1.0)[1] < ruled < _body(420, 1.0)[0]
