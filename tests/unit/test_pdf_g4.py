"""G4 coding and stencil polarity: a mask's True pixels must render in the ink colour."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from station.core.errors import EncodeError
from station.processing.pdf.compose import Stencil, compose_page
from station.processing.pdf.g4 import encode_g4
from station.processing.pdf.save import save_pdf


def test_stencil_paints_true_pixels_in_its_colour(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    mask = np.zeros((120, 200), bool)
    mask[20:60, 30:170] = True
    mask[80:100] = rng.random((20, 200)) < 0.5
    g4 = encode_g4(mask)
    assert (g4.width, g4.height) == (200, 120)
    assert not g4.data.startswith((b"II*", b"MM\x00*"))  # the strip only, no TIFF header
    pdf = compose_page(200 * 72 / 150, 120 * 72 / 150, None, [Stencil(g4, (0, 0, 200))])
    path = tmp_path / "mask.pdf"
    path.write_bytes(save_pdf(pdf))
    png = subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-singlefile", str(path)], capture_output=True, check=True
    ).stdout
    rendered = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    assert rendered.shape == (120, 200, 3)
    painted = np.all(rendered == (0, 0, 200), axis=2)
    white = np.all(rendered == 255, axis=2)
    assert np.array_equal(painted, mask)
    assert np.array_equal(white, ~mask)


def test_empty_mask_is_refused() -> None:
    with pytest.raises(EncodeError):
        encode_g4(np.zeros((0, 10), bool))
