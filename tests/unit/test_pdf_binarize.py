"""The imaging maths behind the ink and seal masks (station.imaging.binarize)."""

from __future__ import annotations

import numpy as np
import pytest

from station.imaging import binarize
from station.imaging.binarize import BinarizeParams


def _paper(shape: tuple[int, int], seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    grain = rng.normal(0, 4, (*shape, 1))
    return np.clip(np.array([236.0, 226.0, 196.0]) + grain, 0, 255).astype(np.uint8)


def test_banded_sauvola_equals_whole_image(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(1)
    grey = rng.integers(0, 256, (1300, 300), dtype=np.uint8)
    banded = binarize.sauvola(grey, 37, 0.1)
    monkeypatch.setattr(binarize, "_BAND_ROWS", 10_000)
    assert np.array_equal(banded, binarize.sauvola(grey, 37, 0.1))


def test_red_seal_is_a_stamp_and_not_ink() -> None:
    rgb = _paper((300, 300))
    rgb[50:60, 20:280] = (205, 45, 60)  # seal ring segment
    rgb[150:156, 20:280] = (35, 50, 140)  # blue ballpoint
    masks = binarize.ink_masks(rgb, 300)
    assert masks.stamp[50:60, 20:280].all() and not masks.stamp[150:156].any()
    assert masks.ink[150:156, 20:280].mean() > 0.99
    assert not masks.ink[50:60].any()
    assert masks.ink[200:].mean() < 0.001  # bare paper stays paper
    assert not masks.assessment.faded


def test_faint_strokes_are_detected_and_recovered() -> None:
    rgb = _paper((400, 400), seed=2)
    for row in range(40, 380, 40):
        rgb[row : row + 4, 30:370] = (212, 202, 200)  # ~10% darker than the paper
    plain = binarize.ink_masks(rgb, 300, BinarizeParams(enhance=False))
    masks = binarize.ink_masks(rgb, 300)
    strokes = np.zeros((400, 400), bool)
    for row in range(40, 380, 40):
        strokes[row : row + 4, 30:370] = True
    assert masks.assessment.faded and masks.enhanced
    assert (masks.ink & strokes).sum() >= 0.9 * strokes.sum()
    assert (plain.ink & strokes).sum() < (masks.ink & strokes).sum()
    assert (masks.ink & ~strokes).sum() < 0.5 * strokes.sum()  # no flood of paper grain


def test_ink_colour_is_kept_dark_enough() -> None:
    rgb = _paper((200, 200))
    rgb[50:150, 50:150] = (190, 185, 205)
    masks = binarize.ink_masks(rgb, 300, BinarizeParams(enhance=True))
    red, green, blue = binarize.ink_colour(rgb, masks)
    assert 0.299 * red + 0.587 * green + 0.114 * blue <= 81
    assert blue > red  # still its own hue


def test_hysteresis_keeps_only_weak_pixels_tied_to_strong_ones() -> None:
    dark = np.zeros((20, 20), np.uint8)
    dark[2, 2:10] = 10
    dark[2, 5] = 50
    dark[10, 2:10] = 10  # weak only: dropped
    kept = binarize.hysteresis(dark, 5, 40)
    assert kept[2, 2:10].all() and not kept[10].any()
