"""Real material stays legible (issue 13, build 8), on simulated entries with truth.

The hazards are drawn by the simulator (``render/hazards.py``): a guilloche
background, show-through of the reverse, a water stain's tide line, small script with
Vietnamese diacritics, blue ballpoint. Faded writing is the hard case: its entry is
enhanced, and everything faint on the paper is then a candidate for the ink mask.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from station.capture.drivers.simulated.render.hazards import Sample, sample
from station.processing.imaging.binarize import ink_masks
from station.processing.pdf.encode import encode_entry
from station.processing.pdf.legibility import ink_recall
from tests.support.entries import make_entry, poppler_render


def _false_share(mask: np.ndarray, truth: np.ndarray) -> float:
    """Share of the entry's pixels in ``mask`` lying more than 2 px from truth ink."""
    near = cv2.dilate(truth.view(np.uint8), np.ones((5, 5), np.uint8)) > 0
    return np.count_nonzero(mask & ~near) / mask.size


def _false_pieces(mask: np.ndarray, truth: np.ndarray) -> int:
    """Pieces of ``mask`` (3 px or more) lying more than 2 px from any truth ink."""
    near = cv2.dilate(truth.view(np.uint8), np.ones((5, 5), np.uint8)) > 0
    false = (mask & ~near).view(np.uint8)
    _, _, stats, _ = cv2.connectedComponentsWithStats(false, connectivity=8)
    return int(np.count_nonzero(stats[1:, cv2.CC_STAT_AREA] >= 3))


def _recall(mask: np.ndarray, truth: np.ndarray) -> float:
    return ink_recall(np.where(mask, 0, 255).astype(np.uint8), truth)


def _rendered(entry: Sample, tmp_path: Path) -> np.ndarray:
    path = tmp_path / "entry.pdf"
    path.write_bytes(encode_entry(entry.rgb, entry.dpi).data)
    shown = poppler_render(path, entry.dpi)
    return shown[: entry.rgb.shape[0], : entry.rgb.shape[1]]


# Seeds whose pattern shows in the red channel (a pink one does not reach the masks).
@pytest.mark.parametrize("seed", [1, 2])
def test_guilloche_background_makes_no_specks(seed: int) -> None:
    entry = sample("guilloche", seed, faded=True)
    masks = ink_masks(entry.rgb, entry.dpi)
    assert masks.enhanced  # the faint path is the one that took the pattern in
    # Before pale pieces stayed out of the ink: 246 and 267 pieces, 1.8% and 2.3%.
    assert _false_pieces(masks.ink, entry.ink) <= 20
    assert _false_share(masks.ink, entry.ink) < 0.003
    assert _recall(masks.ink, entry.ink) >= 0.95


@pytest.mark.parametrize("seed", [0, 1])
def test_show_through_stays_in_the_background(seed: int) -> None:
    entry = sample("show_through", seed, faded=True)
    masks = ink_masks(entry.rgb, entry.dpi)
    # Before: the reverse's blurred letters were faint ink, 9.7% and 10.3%; after
    # 0.5% and 1.5% (its darkest letters' cores are still taken in).
    assert _false_share(masks.ink, entry.ink) < 0.02
    assert _recall(masks.ink, entry.ink) >= 0.95


@pytest.mark.parametrize("seed", [0, 1])
def test_stain_tide_line_is_not_ink(seed: int) -> None:
    entry = sample("stain", seed, faded=True)
    masks = ink_masks(entry.rgb, entry.dpi)
    # Before: 2.9% and 7.9% of the entry, a dark band across the writing.
    assert _false_share(masks.ink, entry.ink) < 0.005
    assert _recall(masks.ink, entry.ink) >= 0.9


def test_small_script_keeps_its_diacritics(tmp_path: Path) -> None:
    entry = sample("guilloche", 3, letter_mm=1.8)
    assert entry.accents.sum() > 500  # the sample does hold accents
    shown = _rendered(entry, tmp_path)
    assert ink_recall(shown, entry.accents, entry.dpi) >= 0.95
    assert ink_recall(shown, entry.ink, entry.dpi) >= 0.97


def _blue_minus_red(rendered: np.ndarray, truth: np.ndarray) -> float:
    core = cv2.erode(truth.view(np.uint8), np.ones((3, 3), np.uint8)) > 0
    pixels = rendered[core].astype(np.int16)
    return float(np.median(pixels[:, 2] - pixels[:, 0]))


def test_blue_writing_stays_blue_beside_black_print(tmp_path: Path) -> None:
    entry = make_entry()  # black print, blue handwriting, a red seal
    path = tmp_path / "entry.pdf"
    path.write_bytes(encode_entry(entry.image, entry.dpi).data)
    shown = poppler_render(path, entry.dpi)[: entry.image.height, : entry.image.width]
    # Source: print 4, writing 103. One ink colour for both painted each 59.
    assert _blue_minus_red(shown, entry.handwriting) >= 80
    assert abs(_blue_minus_red(shown, entry.printed)) <= 20


def test_blue_ink_stays_blue_in_the_pdf(tmp_path: Path) -> None:
    entry = sample("plain", 0, blue=True)
    shown = _rendered(entry, tmp_path)
    assert _blue_minus_red(shown, entry.blue) >= 60
    black = entry.ink & ~entry.blue
    assert abs(_blue_minus_red(shown, black)) <= 20
