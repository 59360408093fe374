"""Decoding captures (station.processing.imaging.load): orientation, modes, dpi and refusals."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from station.core.errors import ImageError
from station.processing.imaging import load
from station.processing.imaging.load import load_rgb


def _jpeg(image: Image.Image, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95, **params)
    return buffer.getvalue()


def test_phone_orientation_is_applied() -> None:
    image = Image.new("RGB", (60, 20), (255, 255, 255))
    image.paste((0, 0, 0), (0, 0, 10, 20))  # a black band on the left
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    pixels, dpi = load_rgb(_jpeg(image, exif=exif.tobytes(), dpi=(300, 300)))
    assert pixels.shape == (60, 20, 3)
    assert pixels[:10].mean() < 60 and pixels[-10:].mean() > 200  # band now on top
    assert dpi == 300


def test_grey_and_palette_images_become_rgb() -> None:
    grey = Image.new("L", (30, 20), 128)
    buffer = io.BytesIO()
    grey.convert("P").save(buffer, "PNG")
    for data in (_jpeg(grey), buffer.getvalue()):
        pixels, _ = load_rgb(data)
        assert pixels.shape == (20, 30, 3) and pixels.dtype == np.uint8
        assert abs(int(pixels.mean()) - 128) <= 2


@pytest.mark.parametrize("mode", ["RGB", "L", "P", "RGBA", "CMYK"])
def test_banded_copy_equals_whole_image(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    noise = Image.fromarray(rng.integers(0, 256, (70, 50, 3), dtype=np.uint8))
    image = noise.convert(mode)
    monkeypatch.setattr(load, "_BAND_ROWS", 16)  # bands that do not divide the height
    assert np.array_equal(load._rgb_array(image), np.asarray(image.convert("RGB")))


def test_truncated_data_is_refused_with_its_name() -> None:
    data = _jpeg(Image.new("RGB", (200, 200), (10, 200, 30)))
    with pytest.raises(ImageError) as caught:
        load_rgb(data[: len(data) // 2], name="phone-17.jpg")
    assert "phone-17.jpg" in caught.value.message("en")
