"""The intake's own TIFF writer, read back by Pillow's libtiff (the page path's decoder)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from station.capture.raw_tiff import ROWS_PER_STRIP, tiff_bytes

PREDICTOR, COMPRESSION, ROWS_PER_STRIP_TAG = 317, 259, 278


@pytest.mark.parametrize(
    "shape",
    [
        (1, 1),
        (1, 1, 3),
        (5, 7),
        (ROWS_PER_STRIP, 33, 3),  # exactly one strip
        (ROWS_PER_STRIP + 1, 2),  # a strip of one row at the end
        (3 * ROWS_PER_STRIP + 17, 301, 3),
    ],
)
def test_pixels_come_back_exactly_with_their_dpi(shape: tuple[int, ...]) -> None:
    pixels = np.random.default_rng(sum(shape)).integers(0, 256, shape, dtype=np.uint8)
    with Image.open(io.BytesIO(tiff_bytes(pixels, 300))) as back:
        back.load()
        assert back.mode == ("RGB" if len(shape) == 3 else "L")
        assert back.info["dpi"] == (300, 300)
        assert back.info["compression"] == "zstd"
        assert back.tag_v2[PREDICTOR] == 2  # horizontal differencing
        assert back.tag_v2[ROWS_PER_STRIP_TAG] == ROWS_PER_STRIP
        assert np.array_equal(np.asarray(back), pixels)


def test_a_smooth_page_compresses_well() -> None:
    """Differencing is what makes a scan's gradients cheap: a ramp is almost nothing."""
    ramp = np.tile(np.arange(1000, dtype=np.uint16) % 256, (500, 1)).astype(np.uint8)
    pixels = np.dstack([ramp, ramp, ramp])
    assert len(tiff_bytes(pixels, 300)) < pixels.nbytes / 100


@pytest.mark.parametrize(
    "pixels",
    [
        np.zeros((4, 4), dtype=np.uint16),
        np.zeros((4, 4, 4), dtype=np.uint8),
        np.zeros(4, dtype=np.uint8),
    ],
    ids=["16-bit", "four samples", "one dimension"],
)
def test_other_pixels_are_refused(pixels: np.ndarray) -> None:
    with pytest.raises(ValueError, match="expected"):
        tiff_bytes(pixels, 300)
