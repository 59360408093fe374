"""The imaging maths behind the ink and seal masks (station.processing.imaging.binarize)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from station.processing.imaging import binarize
from station.processing.imaging.binarize import BinarizeParams


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


def test_banded_faint_strokes_equal_whole_image(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(2)
    dark = rng.integers(0, 256, (1300, 300), dtype=np.uint8)
    ink = rng.random((1300, 300)) < 0.45  # strokes that run across the bands
    banded = binarize.faint_strokes(ink, dark, 200, mean_below=120)
    assert banded.any() and not banded.all()
    monkeypatch.setattr(binarize, "_BAND_ROWS", 10_000)
    assert np.array_equal(banded, binarize.faint_strokes(ink, dark, 200, mean_below=120))


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


def _luma(colour: tuple[int, int, int] | None) -> float:
    assert colour is not None
    return 0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2]


def test_faint_ink_gets_its_own_layer_kept_visible() -> None:
    rgb = _paper((200, 300))
    for column in range(50, 150, 20):
        rgb[50:150, column : column + 5] = (190, 185, 205)  # faded violet strokes
    rgb[50:150, 200:206] = (60, 70, 150)  # a dark ballpoint stroke
    masks = binarize.ink_masks(rgb, 300, BinarizeParams(enhance=True))
    faded = masks.ink[50:150, 50:150]
    assert faded.mean() > 0.2  # the strokes are ink ...
    assert masks.faint[50:150, 50:150][faded].all()  # ... on the faint layer
    assert masks.ink[50:150, 200:206].all() and not masks.faint[:, 190:].any()
    faint = binarize.faint_colour(rgb, masks)
    paper = _luma((236, 226, 196))
    assert faint is not None and _luma(faint) <= paper - 59  # clearly visible
    assert faint[2] > faint[0]  # still its own hue
    strong = binarize.ink_colour(rgb, masks)
    assert _luma(strong) <= 81 and strong[2] > strong[0]


def test_fibres_beside_print_are_faint_not_dark() -> None:
    rgb = _paper((200, 200), seed=3)
    rgb[80:110, 40:44] = (20, 20, 20)  # a printed stem
    rgb[114:116, 30:40] = (205, 196, 170)  # a fibre under it, ~13% darker than paper
    masks = binarize.ink_masks(rgb, 300)
    assert masks.ink[80:110, 40:44].all() and not masks.faint[80:110, 40:44].any()
    # The fibre is left out of the ink, or at most painted on the pale faint layer.
    dark_fibre = masks.ink[114:116, 30:40] & ~masks.faint[114:116, 30:40]
    assert not dark_fibre.any()
    # A textbook Sauvola k takes it in: then it must go on the faint layer, or (a
    # thin line that never gets dark: not_strokes) stay in the background.
    loose = binarize.ink_masks(rgb, 300, BinarizeParams(sauvola_k=0.1))
    fibre = loose.ink[114:116, 30:40]
    assert loose.faint[114:116, 30:40][fibre].all()


def test_hysteresis_keeps_only_weak_pixels_tied_to_strong_ones() -> None:
    dark = np.zeros((20, 20), np.uint8)
    dark[2, 2:10] = 10
    dark[2, 5] = 50
    dark[10, 2:10] = 10  # weak only: dropped
    kept = binarize.hysteresis(dark, 5, 40)
    assert kept[2, 2:10].all() and not kept[10].any()


def test_banded_piece_sums_equal_whole_image(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each band sums only the box around its own pieces: a few small pieces, across
    # band boundaries and on every edge of the entry (so the box of all of them, with
    # one band, is the whole entry: the reference).
    rng = np.random.default_rng(3)
    dark = rng.integers(0, 256, (1300, 300), dtype=np.uint8)
    pieces = np.zeros(dark.shape, dtype=bool)
    for top, left in ((0, 40), (505, 0), (509, 150), (1020, 296), (1294, 200), (700, 120)):
        pieces[top : top + 6, left : left + 4] = rng.random((6, 4)) < 0.8
    count, labels = binarize.piece_labels(pieces)
    banded = binarize._piece_sums(pieces, labels, count, dark, 200)
    monkeypatch.setattr(binarize, "_BAND_ROWS", 10_000)
    whole = binarize._piece_sums(pieces, labels, count, dark, 200)
    assert count > 6
    for got, expected in zip(banded, whole, strict=True):
        assert np.array_equal(got, expected)


@pytest.mark.parametrize("blob", [0, 4, 6, 9, 12, -1])
def test_the_wide_parts_are_the_opening_by_the_disk(blob: int) -> None:
    # Squares from a dot to wider than the disk (radius 9: a 13-px square fits in
    # it), or (-1) the disk itself, which only the disk fits; one on the entry's edge,
    # where erosion counts the outside as set.
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (19, 19))
    rng = np.random.default_rng(blob + 1)
    mask = rng.random((200, 160)) < 0.3
    for top, left in ((20, 20), (120, 90), (0, 141)):
        if blob < 0:
            mask[top : top + 19, left : left + 19] |= disk.view(bool)
        else:
            mask[top : top + 2 * blob + 1, left : left + 2 * blob + 1] = True
    opened = cv2.dilate(cv2.erode(mask.view(np.uint8), disk), disk).view(bool) & mask
    assert np.array_equal(binarize._wide_parts(mask, 9), opened)
    assert opened.any() == (blob >= 9 or blob < 0)


def test_the_median_colour_is_numpys_median() -> None:
    rng = np.random.default_rng(4)
    for size in (1, 2, 3, 10, 11, 400, 401):
        rgb = rng.integers(0, 256, (30, 30, 3), dtype=np.uint8)
        rgb[rng.random((30, 30)) < 0.5] //= 64  # repeated levels, as ink has
        for step in (1, 2):
            mask = np.zeros((30, 30), dtype=bool)
            grid = mask[::step, ::step]
            grid.flat[rng.choice(grid.size, min(size, grid.size), replace=False)] = True
            expected = np.median(rgb[::step, ::step][grid], axis=0)
            got = binarize.mean_colour(rgb, mask, step)
            assert got == tuple(int(level) for level in expected)
    assert binarize.mean_colour(rgb, np.zeros((30, 30), dtype=bool)) is None


@pytest.mark.parametrize("mean_below", [0, 120])
def test_faint_strokes_are_the_pieces_never_dark_or_pale_on_average(mean_below: int) -> None:
    # The definition, piece by piece, against the banded sums over the ink's pixels.
    rng = np.random.default_rng(6)
    dark = rng.integers(0, 256, (700, 120), dtype=np.uint8)
    ink = rng.random((700, 120)) < 0.3
    faint = binarize.faint_strokes(ink, dark, 200, mean_below=mean_below)
    count, labels = cv2.connectedComponents(ink.view(np.uint8), connectivity=8)
    expected = np.zeros(ink.shape, dtype=bool)
    for piece in range(1, count):
        shades = dark[labels == piece].astype(np.int64)
        pale = shades.max() <= 200 or (mean_below and shades.mean() < mean_below)
        expected |= (labels == piece) & bool(pale)
    assert expected.any() and np.array_equal(faint, expected)
