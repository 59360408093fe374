"""Ink split by hue (station.processing.imaging.hues)."""

from __future__ import annotations

import numpy as np
import pytest

from station.processing.imaging import hues
from station.processing.imaging.binarize import piece_labels


def _pieces() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Four pieces on paper: black print, blue writing, a pale red stroke with no
    dark core, and a stroke with a blue rim round a black core."""
    rgb = np.full((60, 100, 3), (235, 228, 205), np.uint8)
    dark = np.zeros((60, 100), np.uint8)
    mask = np.zeros((60, 100), bool)
    for left, colour, shade in (
        (5, (30, 30, 35), 200),
        (30, (40, 60, 160), 150),
        (55, (230, 120, 120), 40),
    ):
        rgb[10:50, left : left + 8], dark[10:50, left : left + 8] = colour, shade
        mask[10:50, left : left + 8] = True
    rgb[10:50, 80:92], dark[10:50, 80:92], mask[10:50, 80:92] = (60, 90, 200), 30, True
    rgb[10:50, 84:88], dark[10:50, 84:88] = (25, 25, 25), 220
    return rgb, dark, mask


@pytest.mark.parametrize("band_rows", [7, 512])
def test_each_piece_is_classed_by_its_core_or_all_of_it_without_one(
    band_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hues, "_BAND_ROWS", band_rows)
    rgb, dark, mask = _pieces()
    count, labels = piece_labels(mask)
    classes, sizes = hues._piece_classes(rgb, mask, dark, labels, count, 60)
    by_column = {left: int(classes[labels[20, left]]) for left in (5, 30, 55, 80)}
    assert by_column == {5: 0, 30: 4, 55: 1, 80: 0}  # neutral, blue, red, neutral (core)
    assert sizes[labels[20, 80]] == 40 * 12 and sizes[0] == 0


def test_the_groups_hold_each_hue_apart() -> None:
    rgb, dark, mask = _pieces()
    groups = hues.hue_groups(rgb, mask, dark)
    assert len(groups) == 3
    assert np.array_equal(np.logical_or.reduce(groups), mask)
    assert sum(int(g.sum()) for g in groups) == int(mask.sum())
