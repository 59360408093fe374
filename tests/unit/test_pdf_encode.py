"""The encoding ladder, checked on rendered PDFs of synthetic ledger entries.

Every test image is drawn here: printed Vietnamese form text (DejaVu Sans), cursive-like
handwriting strokes, a red ring seal and yellowed, noisy paper; the ink and seal masks
are known because they were drawn. PDFs are checked with ``qpdf --check`` and rendered
with ``pdftoppm`` at the entry's dpi.
"""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pikepdf
import pytest
from PIL import Image

from station.core.errors import EncodeError
from station.processing.imaging.binarize import BinarizeParams
from station.processing.pdf.encode import DEFAULT_BUDGET, EncodeOptions, _mask_dpi, encode_entry
from station.processing.pdf.legibility import ink_recall, stamp_is_red
from tests.support.entries import Synthetic, make_entry, poppler_render

# --- helpers -------------------------------------------------------------------------


def check_pdf(data: bytes, tmp_path: Path) -> Path:
    """Write ``data`` and require ``qpdf --check`` to pass."""
    path = tmp_path / "entry.pdf"
    path.write_bytes(data)
    check = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    return path


def render(data: bytes, dpi: int, tmp_path: Path) -> npt.NDArray[np.uint8]:
    """The PDF's only page rendered by pdftoppm at ``dpi`` as an RGB array."""
    return poppler_render(check_pdf(data, tmp_path), dpi)


def assert_page_size(rendered: npt.NDArray[np.uint8], image: Image.Image) -> None:
    height, width = rendered.shape[:2]
    assert abs(width - image.width) <= 1 and abs(height - image.height) <= 1


def image_widths(data: bytes) -> dict[str, int]:
    """Width in pixels of each image XObject on the page, by resource name."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        xobjects = pdf.pages[0].Resources.XObject
        return {str(name): int(xobjects[name].Width) for name in xobjects}


@pytest.fixture(scope="module")
def normal() -> Synthetic:
    return make_entry(seed=1)


@pytest.fixture(scope="module")
def faint() -> Synthetic:
    # Handwriting about 12% darker than the paper in the red channel.
    return make_entry(seed=2, faint=True, faint_ink=(205, 196, 206))


# --- tests ---------------------------------------------------------------------------


def test_normal_entry_is_a_legible_colour_composite(normal: Synthetic, tmp_path: Path) -> None:
    result = encode_entry(normal.image, normal.dpi)
    assert result.encoding == "composite"
    assert len(result.data) <= DEFAULT_BUDGET
    assert result.flags == []
    assert [a.name for a in result.attempts] == ["composite"]
    assert (result.width_px, result.height_px, result.dpi) == (*normal.image.size, 300)
    rendered = render(result.data, normal.dpi, tmp_path)
    assert_page_size(rendered, normal.image)
    assert ink_recall(rendered, normal.ink, normal.dpi) >= 0.95
    assert stamp_is_red(rendered, normal.stamp)
    # Paper stays paper: the render is not a dark smear that would "recall" anything.
    assert ink_recall(rendered, ~(normal.ink | normal.stamp), normal.dpi) < 0.05


def test_faint_ink_is_detected_enhanced_and_kept(faint: Synthetic, tmp_path: Path) -> None:
    result = encode_entry(faint.image, faint.dpi)
    assert result.encoding == "composite"
    assert "faded" in result.flags and "ink_enhanced" in result.flags
    assert len(result.data) <= DEFAULT_BUDGET
    rendered = render(result.data, faint.dpi, tmp_path)
    assert_page_size(rendered, faint.image)
    assert ink_recall(rendered, faint.handwriting & ~faint.stamp, faint.dpi) >= 0.90
    assert ink_recall(rendered, faint.ink, faint.dpi) >= 0.90
    assert stamp_is_red(rendered, faint.stamp)


def test_faint_test_image_defeats_plain_sauvola(faint: Synthetic, tmp_path: Path) -> None:
    """The faint variant really needs the enhancement (else the test above proves little)."""
    plain = EncodeOptions(binarize=BinarizeParams(enhance=False))
    result = encode_entry(faint.image, faint.dpi, options=plain)
    assert "ink_enhanced" not in result.flags
    rendered = render(result.data, faint.dpi, tmp_path)
    assert ink_recall(rendered, faint.handwriting & ~faint.stamp, faint.dpi) < 0.90


def test_full_a4_page_fits_in_composite(tmp_path: Path) -> None:
    # Its speed is measured by bench/imaging.py, not asserted here.
    page = make_entry(8.27, 11.69, 300, seed=5)
    result = encode_entry(page.image, page.dpi)
    assert len(result.data) <= DEFAULT_BUDGET
    assert result.encoding == "composite"
    rendered = render(result.data, page.dpi, tmp_path)
    assert_page_size(rendered, page.image)
    assert ink_recall(rendered, page.ink, page.dpi) >= 0.95


def test_600_dpi_source_is_downsampled_for_the_mask(tmp_path: Path) -> None:
    entry = make_entry(4.0, 2.5, 600, seed=6)
    result = encode_entry(entry.image, entry.dpi)
    assert result.encoding == "composite" and result.dpi == 600
    widths = image_widths(result.data)
    assert widths["/M1"] == round(entry.image.width / 2)  # the ink mask, at 300 dpi
    rendered = render(result.data, entry.dpi, tmp_path)
    assert_page_size(rendered, entry.image)
    assert ink_recall(rendered, entry.ink, entry.dpi) >= 0.95
    assert stamp_is_red(rendered, entry.stamp)


def test_150_dpi_source_keeps_its_resolution(tmp_path: Path) -> None:
    entry = make_entry(8.27, 3.9, 150, seed=7)
    result = encode_entry(entry.image, entry.dpi)
    assert image_widths(result.data)["/M1"] == entry.image.width
    rendered = render(result.data, entry.dpi, tmp_path)
    assert_page_size(rendered, entry.image)
    assert ink_recall(rendered, entry.ink, entry.dpi) >= 0.95


def test_tiny_budget_returns_smallest_legible_attempt_over_budget(
    normal: Synthetic, tmp_path: Path
) -> None:
    result = encode_entry(normal.image, normal.dpi, budget_bytes=2000)
    names = [a.name for a in result.attempts]
    assert names[:5] == ["composite", "composite_lowbg", "bilevel", "bilevel_200", "bilevel_150"]
    assert names[-1] == "grey_120_q30"
    assert len(result.data) == min(a.size for a in result.attempts)
    assert "over_budget" in result.flags
    assert ("greyscale_fallback" in result.flags) == result.encoding.startswith("grey_")
    rendered = render(result.data, normal.dpi, tmp_path)
    assert_page_size(rendered, normal.image)
    assert ink_recall(rendered, normal.ink, normal.dpi) >= 0.90


def test_budget_between_rungs_picks_the_first_that_fits(normal: Synthetic) -> None:
    sizes = {a.name: a.size for a in encode_entry(normal.image, 300, budget_bytes=1).attempts}
    result = encode_entry(normal.image, normal.dpi, budget_bytes=sizes["bilevel_200"])
    assert result.encoding == "bilevel_200"
    assert result.flags == [] and len(result.data) <= sizes["bilevel_200"]


def test_halftone_falls_back_to_greyscale(tmp_path: Path) -> None:
    """A dense dot pattern (a printed photo) explodes G4 but is cheap as grey JPEG."""
    rng = np.random.default_rng(3)
    pixels = np.full((1200, 1500, 3), (236, 226, 196), np.uint8)
    pixels[rng.random((1200, 1500)) < 0.3] = (60, 60, 60)
    image = Image.fromarray(pixels)
    result = encode_entry(image, 300)
    assert result.encoding.startswith("grey_")
    assert "greyscale_fallback" in result.flags and "over_budget" not in result.flags
    assert len(result.data) <= DEFAULT_BUDGET
    assert_page_size(render(result.data, 300, tmp_path), image)


def test_document_info_is_written(normal: Synthetic) -> None:
    info = {"Title": "KS.2007.01.30", "Author": "Trạm số hóa xã Tân Phú"}
    result = encode_entry(normal.image, normal.dpi, info=info)
    with pikepdf.open(io.BytesIO(result.data)) as pdf:
        assert str(pdf.docinfo["/Title"]) == "KS.2007.01.30"
        assert str(pdf.docinfo["/Author"]) == "Trạm số hóa xã Tân Phú"


@pytest.mark.parametrize(("size", "dpi"), [((100, 100), 20), ((4, 100), 300)])
def test_unusable_input_raises_encode_error(size: tuple[int, int], dpi: int) -> None:
    with pytest.raises(EncodeError) as raised:
        encode_entry(Image.new("RGB", size, "white"), dpi, entry="KS.2007.01.30")
    assert raised.value.key == "encode.bad_input"
    assert "KS.2007.01.30" in raised.value.message("vi")


def test_other_image_modes_are_accepted(tmp_path: Path) -> None:
    entry = make_entry(3.0, 2.0, 300, seed=8)
    grey = entry.image.convert("L")
    result = encode_entry(grey, 300)
    assert len(result.data) <= DEFAULT_BUDGET
    assert ink_recall(render(result.data, 300, tmp_path), entry.printed, 300) >= 0.95


def test_masks_of_a_huge_region_are_made_at_a_lower_dpi() -> None:
    """A whole 42-megapixel spread page would need ~570 MB for its masks at 300 dpi."""
    options = EncodeOptions()
    assert _mask_dpi((2400, 1000), 300, options) == 300  # an entry: 2.4 MP at 300 dpi
    dpi = _mask_dpi((3750, 5600), 300, options)  # half a 42 MP spread at 300 dpi
    assert 200 <= dpi < 300
    assert 3750 * 5600 * (dpi / 300) ** 2 <= options.max_mask_pixels
    # The same page at 600 dpi: its 300-dpi masks are 5.25 MP.
    assert _mask_dpi((3750, 5600), 600, options) == 300
