"""The real-page scorer (station.processing.imaging.truthscore) on a hand-made page.

Three entries stacked on a 400 x 300 page, two written lines each; the output regions
are drawn by hand so that each rule of the acceptance is met or broken on purpose.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from station.processing.imaging.truthscore import (
    ImageScore,
    Truth,
    TruthEntry,
    ink_mask,
    score_image,
)

SIZE = (400, 300)
BANDS = ((20, 100), (100, 180), (180, 260))  # top, bottom of each entry


def _rect(left: float, top: float, right: float, bottom: float) -> NDArray[np.float64]:
    return np.array([[left, top], [right, top], [right, bottom], [left, bottom]], np.float64)


def _truth(turns: int = 0) -> Truth:
    entries = [
        TruthEntry(_rect(20, top, 380, bottom), [_rect(40, top + 15, 360, top + 35),
                                                 _rect(40, top + 45, 360, top + 65)])
        for top, bottom in BANDS
    ]  # fmt: skip
    return Truth(entries, turns, SIZE)


def _ink() -> NDArray[np.bool_]:
    """Red channel of the page: writing along every line, nothing outside them."""
    page = np.full((SIZE[1], SIZE[0]), 235, np.uint8)
    for entry in _truth().entries:
        for line in entry.lines:
            left, top = line[0]
            cv2.putText(page, "Nguyen Van An 1987", (int(left) + 4, int(top) + 16),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.6, 40, 1)  # fmt: skip
    return ink_mask(page, 1)


def _score(regions: list[NDArray[np.float64]], turns: int | None = 0) -> ImageScore:
    return score_image(_truth(), regions, _ink(), 1, turns)


def test_entries_cut_on_their_own_are_exact() -> None:
    score = _score([_rect(15, top, 385, bottom) for top, bottom in BANDS])
    assert (score.entries, score.found, score.exact, score.exact_writing) == (3, 3, 3, 3)
    assert (score.leaked, score.split_lines, score.lost_entries, score.ink_lost) == (0, 0, 0, 0)
    assert score.lines == 6 and score.ink > 100
    assert score.orientation_right is True


def test_a_region_reaching_into_its_neighbour_leaks_it() -> None:
    # Entry 1 reaches 20 px (25%) into entry 2; entry 2's own region starts below.
    regions = [_rect(15, 20, 385, 120), _rect(15, 120, 385, 180), _rect(15, 180, 385, 260)]
    score = _score(regions)
    # Only entry 3: entry 1's region holds a quarter of entry 2, entry 2's three quarters.
    assert score.exact == 1
    assert score.leaked == 1
    assert score.lost_entries == 0


def test_a_cut_through_a_written_line_splits_it() -> None:
    # The boundary between the last two regions runs through entry 2's second line.
    regions = [_rect(15, 20, 385, 100), _rect(15, 100, 385, 155), _rect(15, 155, 385, 260)]
    score = _score(regions)
    assert (score.split_lines, score.split_ink) == (1, 1)
    assert score.exact == 1  # entry 1 only
    assert score.exact_writing == 1  # entry 3's region also holds half of entry 2's line
    assert score.leaked == 1  # entry 2, partly in entry 3's file


def test_a_cut_over_the_letters_splits_a_line_polygon_and_not_its_ink() -> None:
    # Entry 2's first line polygon runs from 115 to 135, its letters from about 119:
    # a cut at 117 takes a tenth of the polygon and none of the writing.
    regions = [_rect(15, 20, 385, 117), _rect(15, 117, 385, 180), _rect(15, 180, 385, 260)]
    score = _score(regions)
    assert (score.split_lines, score.split_ink) == (1, 0)


def test_a_cut_in_blank_paper_is_exact_by_writing_wherever_the_truth_put_it() -> None:
    # The blank between entries 1 and 2 runs from 85 to 115; the truth's boundary is at
    # 100, the cut at 90: an eighth of entry 1's polygon goes to entry 2's region, none
    # of its writing.
    regions = [_rect(15, 20, 385, 90), _rect(15, 90, 385, 180), _rect(15, 180, 385, 260)]
    score = _score(regions)
    assert score.exact == 1  # entry 3 only, by polygon area
    assert score.exact_writing == 3
    assert (score.split_lines, score.lost_entries) == (0, 0)


def test_ink_in_no_region_is_lost() -> None:
    # Entry 3 has no region, and entry 2's region stops above its second line.
    score = _score([_rect(15, 20, 385, 100), _rect(15, 100, 385, 140)])
    assert score.lost_entries == 2
    assert 0.4 < score.ink_lost / score.ink < 0.6  # three of six lines
    assert score.exact == 1 and score.split_lines == 0


def test_one_region_for_the_whole_page_is_exact_for_none() -> None:
    score = _score([_rect(0, 0, 400, 300)], turns=1)
    assert (score.exact, score.exact_writing, score.leaked, score.lost_entries) == (0, 0, 2, 0)
    assert score.orientation_right is False
    assert _score([], turns=None).orientation_right is None
