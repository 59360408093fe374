"""Every PDF the station writes looks the same in the three engines people open it with.

Entry PCs are mostly Windows: staff see a PDF in Edge or Chrome (PDFium), some in a
viewer built on MuPDF (SumatraPDF), and the station's own tests and thumbnails use
poppler (pdftoppm). Each rung of the encoding ladder (a colour composite of stencils
over a JPEG of the paper, the bilevel stencils, the greyscale JPEG; a faded entry with
its own faint layer) is rendered by all three at 150 dpi in colour and compared pixel
for pixel with poppler's render.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from station.processing.imaging.binarize import BinarizeParams
from station.processing.pdf import rungs
from tests.support.checks import qpdf_ok
from tests.support.entries import make_entry, poppler_render

pdfium = pytest.importorskip("pypdfium2")

DPI = 150
#: Grey levels two engines may differ by on a pixel before it counts as different
#: (anti-aliasing of a stencil's edge, JPEG upsampling); a stroke missing or added in
#: one engine differs by far more.
TOLERANCE = 64
#: Share of pixels allowed to differ by more than that from every pixel within one
#: pixel of them in the other render.
MAX_DIFFERENT = 0.002
Pixels = npt.NDArray[np.uint8]  # height x width x RGB
Build = Callable[[rungs.Prepared], bytes]

LADDER: dict[str, Build] = {
    "composite": lambda p: rungs.composite(p, 50, 65),
    "bilevel": lambda p: rungs.bilevel(p, p.mask_dpi),
    "bilevel_150": lambda p: rungs.bilevel(p, 150),
    "greyscale": lambda p: rungs.greyscale(p, 150, 45),
}


def mupdf(path: Path) -> Pixels:
    target = path.with_suffix(".mupdf.ppm")
    subprocess.run(
        ["mutool", "draw", "-q", "-r", str(DPI), "-c", "rgb", "-o", str(target), str(path), "1"],
        capture_output=True,
        check=True,
    )
    with Image.open(target) as page:
        return np.asarray(page.convert("RGB"))


def pdfium_render(path: Path) -> Pixels:
    document = pdfium.PdfDocument(str(path))
    try:
        bitmap = document[0].render(scale=DPI / 72)
        return np.asarray(bitmap.to_pil().convert("RGB"))
    finally:
        document.close()


def assert_same(reference: Pixels, other: Pixels, engine: str, rung: str) -> None:
    assert abs(reference.shape[0] - other.shape[0]) <= 1, (engine, rung)
    assert abs(reference.shape[1] - other.shape[1]) <= 1, (engine, rung)
    height = min(reference.shape[0], other.shape[0])
    width = min(reference.shape[1], other.shape[1])
    a = np.ascontiguousarray(reference[:height, :width])
    b = np.ascontiguousarray(other[:height, :width])
    # Engines place a pixel grid a fraction of a pixel apart: a pixel is different only
    # when no pixel of the other render within one pixel of it comes close.
    near = np.ones((3, 3), np.uint8)
    low, high = cv2.erode(b, near).astype(np.int16), cv2.dilate(b, near).astype(np.int16)
    value = a.astype(np.int16)
    off = (value < low - TOLERANCE) | (value > high + TOLERANCE)
    different = float(np.mean(off.any(axis=2)))  # a pixel differs in any colour
    assert float(np.mean(a.min(axis=2) < 128)) > 0.005, (rung, "nothing drawn")
    mean = float(np.mean(np.abs(value - b.astype(np.int16))))
    assert different <= MAX_DIFFERENT, (engine, rung, different, mean)


@pytest.mark.skipif(shutil.which("mutool") is None, reason="mutool (Debian mupdf-tools) absent")
@pytest.mark.parametrize("faded", [False, True], ids=["normal", "faded"])
@pytest.mark.parametrize("rung", sorted(LADDER))
def test_every_rung_renders_alike_in_poppler_pdfium_and_mupdf(
    tmp_path: Path, rung: str, faded: bool
) -> None:
    entry = make_entry(seed=3, faint=faded, faint_ink=(205, 196, 206))
    prepared = rungs.prepare(entry.image, entry.dpi, 300, BinarizeParams(), {})
    if faded:
        assert prepared.faints  # the faint layers are part of what is compared
    path = tmp_path / f"{rung}.pdf"
    path.write_bytes(LADDER[rung](prepared))
    assert qpdf_ok(path)
    reference = poppler_render(path, DPI)
    assert_same(reference, pdfium_render(path), "pdfium", rung)
    assert_same(reference, mupdf(path), "mupdf", rung)
