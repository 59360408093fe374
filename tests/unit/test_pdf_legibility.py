"""The legibility rules shared with the benchmark."""

from __future__ import annotations

import numpy as np

from station.processing.pdf.legibility import ink_recall, stamp_is_red


def _page() -> np.ndarray:
    return np.full((300, 300, 3), (235, 225, 195), np.uint8)


def test_ink_recall_counts_only_visibly_darker_pixels() -> None:
    page = _page()
    mask = np.zeros((300, 300), bool)
    mask[100:104, 20:280] = True
    mask[200:204, 20:280] = True
    page[100:104, 20:280] = (40, 40, 120)  # clearly visible
    page[200:204, 20:280] = (225, 215, 185)  # only 10 levels darker: not visible
    assert ink_recall(page, mask, 300) == 0.5
    assert ink_recall(page, np.zeros_like(mask), 300) == 1.0


def test_ink_recall_tolerates_a_one_pixel_size_difference() -> None:
    page = _page()[:299]
    mask = np.zeros((300, 300), bool)
    mask[10:12, 10:50] = True
    page[10:12, 10:50] = 0
    assert ink_recall(page, mask) == 1.0


def test_stamp_is_red() -> None:
    page = _page()
    mask = np.zeros((300, 300), bool)
    mask[50:60, 50:250] = True
    assert not stamp_is_red(page, mask)
    page[50:60, 50:250] = (200, 50, 60)
    assert stamp_is_red(page, mask)
    page[50:60, 50:250] = (90, 90, 90)  # a grey seal (greyscale fallback) is not red
    assert not stamp_is_red(page, mask)
