"""Where an entry came from: regions mapped back to the source file's stored pixel grid.

Regions are found on the decoded capture (EXIF orientation applied) in a page frame of
their own; :func:`station.processing.page.source_polygon` takes them back through both
transforms. These tests put marks at known stored pixels, let Pillow's own
``exif_transpose`` move them, and check that the way back lands on the marks.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from station.capture.drivers.simulated.render.page import RenderSpec, render_page
from station.core.errors import ImageError
from station.core.layouts import get_profile
from station.processing.imaging import geometry as geo
from station.processing.imaging.cutcheck import check_cut
from station.processing.imaging.load import ORIENTATION_TAG, load_image, read_grid
from station.processing.imaging.segment import segment
from station.processing.page import make_region, source_polygon

#: Mark colours and their stored centres (TL, TR, BR, BL of an entry-like quad).
MARKS = {
    (255, 0, 0): (30.0, 20.0),
    (0, 160, 0): (170.0, 26.0),
    (0, 0, 255): (160.0, 100.0),
    (0, 0, 0): (40.0, 90.0),
}
STORED_SIZE = (200, 120)


def _png(image: Image.Image, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[ORIENTATION_TAG] = orientation
    buffer = io.BytesIO()
    image.save(buffer, "PNG", exif=exif.tobytes())
    return buffer.getvalue()


def _marked() -> Image.Image:
    image = Image.new("RGB", STORED_SIZE, (255, 255, 255))
    for colour, (x, y) in MARKS.items():
        # 8 x 8 pixels centred on (x, y) in OpenCV's convention (integer = pixel centre)
        image.paste(colour, (round(x) - 4, round(y) - 4, round(x) + 4, round(y) + 4))
    return image


def _centre(rgb: NDArray[np.uint8], colour: tuple[int, int, int]) -> tuple[float, float]:
    ys, xs = np.nonzero(np.all(rgb == np.asarray(colour, np.uint8), axis=2))
    assert xs.size == 64, colour
    return float(xs.mean()), float(ys.mean())


@pytest.mark.parametrize("orientation", range(1, 9))
def test_a_region_maps_back_onto_the_stored_pixels(orientation: int) -> None:
    decoded = load_image(_png(_marked(), orientation))
    assert decoded.orientation == orientation and decoded.stored_size == STORED_SIZE
    upright = np.array([_centre(decoded.rgb, colour) for colour in MARKS])
    # The page frame of a region whose corners are the marks, as segmentation makes one
    box = (12, 15, 212, 115)
    warp = geo.quad_to_rect(upright, box)
    found = np.asarray(source_polygon(box, tuple(warp.ravel()), decoded))
    # Half a pixel separates OpenCV's pixel-centre grid from the edge grid of a turn.
    assert np.abs(found - np.array(list(MARKS.values()))).max() <= 1.0, found


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_the_grid_read_from_the_header_is_the_decoders(orientation: int, tmp_path: Path) -> None:
    """Review re-cuts take the stored grid from the file's header, without decoding."""
    path = tmp_path / "capture.png"
    path.write_bytes(_png(_marked(), orientation))
    grid = read_grid(path)
    assert (grid.orientation, grid.stored_size) == (orientation, STORED_SIZE)
    assert np.array_equal(grid.to_stored(), load_image(path).to_stored())
    path.write_bytes(b"not an image")
    with pytest.raises(ImageError):
        read_grid(path)


def test_a_file_without_orientation_keeps_its_grid() -> None:
    buffer = io.BytesIO()
    _marked().save(buffer, "PNG")
    decoded = load_image(buffer.getvalue())
    assert decoded.orientation == 1
    corners = source_polygon((5, 6, 50, 60), None, decoded)
    assert corners == [[5.0, 6.0], [50.0, 6.0], [50.0, 60.0], [5.0, 60.0]]


def _stored_sideways(upright: Image.Image) -> bytes:
    """``upright`` stored as a phone does when held sideways: EXIF 6 turns it back."""
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # counter-clockwise
    exif = Image.Exif()
    exif[ORIENTATION_TAG] = 6
    buffer = io.BytesIO()
    stored.save(buffer, "JPEG", quality=92, exif=exif.tobytes())
    return buffer.getvalue()


def test_camera_shot_stored_sideways_cuts_cleanly_in_the_stored_grid() -> None:
    """A simulated camera shot (perspective, skew: a known transform of the flat page),
    stored sideways with EXIF 6: each region mapped to the stored grid covers its true
    entry there and leaks into none of the others."""
    dpi = 150
    page = render_page(RenderSpec(profile="stacked", dpi=dpi, seed=3, camera=True))
    width, height = page.image.size
    decoded = load_image(_stored_sideways(page.image.convert("RGB")))
    assert decoded.stored_size == (height, width)
    found = segment(decoded.rgb, dpi, get_profile("stacked"))
    assert len(found.regions) == len(page.entries)
    # Stored = upright turned counter-clockwise: (x, y) -> (y, W - x), derived here
    # independently of the product's EXIF table.
    truths = [np.array([(y, width - x) for x, y in e.polygon]) for e in page.entries]
    size = (height, width)
    for index, proposed in enumerate(found.regions):
        region = make_region("c1", proposed, found.angle, 1, decoded)
        assert region.source_orientation == 6 and region.source_polygon is not None
        polygon = np.asarray(region.source_polygon)
        others = truths[:index] + truths[index + 1 :]
        cut = check_cut(polygon, truths[index], others, size)
        assert cut.clean, (index, cut)
