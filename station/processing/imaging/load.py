"""Decoding captured images safely: every input is untrusted until it decodes.

Images come from scanners, cameras, hot folders and phones on the LAN. A truncated
JPEG, a file that is not an image, or a decompression bomb must become a clear
:class:`ImageError`, never a crash or an exhausted Raspberry Pi.
"""

from __future__ import annotations

import io
import logging
import typing
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps, UnidentifiedImageError

from station.core.errors import ImageError
from station.core.limits import MAX_PIXELS
from station.processing.imaging import geometry as geo

log = logging.getLogger(__name__)

#: The EXIF tag a phone stores its orientation in.
ORIENTATION_TAG = 0x0112
#: Rows copied from the decoded image into the array at a time.
_BAND_ROWS = 256


@dataclass(frozen=True)
class StoredGrid:
    """How a capture file stores its pixels: its EXIF orientation and stored size."""

    orientation: int  # EXIF orientation of the file, 1 when it has none
    stored_size: tuple[int, int]  # width, height of the pixels as stored

    def to_stored(self) -> geo.Matrix:
        """Homography from the upright (EXIF-applied) pixels to the stored file's."""
        width, height = self.stored_size
        return geo.invert(geo.exif_upright(self.orientation, width, height))


def read_grid(source: Path) -> StoredGrid:
    """The stored grid of an image file, from its header alone (no pixels decoded)."""
    try:
        with Image.open(source) as image:
            return StoredGrid(_orientation(image), image.size)
    except UnidentifiedImageError as exc:
        raise ImageError("image.not_image", source=str(source)) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError("image.corrupt", source=str(source), detail=str(exc)) from exc


@dataclass(frozen=True)
class Decoded:
    """A decoded capture, upright as a viewer shows it, and how it was stored.

    Every later step works on ``rgb`` (EXIF orientation applied); what a region came
    from is told in the grid of the file as stored (:meth:`to_stored`), the one grid
    anyone holding the file can draw on without knowing our decoder.
    """

    rgb: NDArray[np.uint8]
    dpi: int | None
    orientation: int  # EXIF orientation of the file, 1 when it has none
    stored_size: tuple[int, int]  # width, height of the pixels as stored

    def to_stored(self) -> geo.Matrix:
        """Homography from ``rgb``'s pixels to the stored file's pixels."""
        return StoredGrid(self.orientation, self.stored_size).to_stored()


def load_rgb(source: Path | bytes, name: str = "") -> tuple[NDArray[np.uint8], int | None]:
    """Decode ``source`` to an RGB array (phone EXIF orientation applied) and its dpi."""
    decoded = load_image(source, name)
    return decoded.rgb, decoded.dpi


def load_image(source: Path | bytes, name: str = "") -> Decoded:
    """Decode ``source`` (EXIF orientation applied), keeping how it was stored."""
    label = name or (str(source) if isinstance(source, Path) else "(upload)")
    try:
        handle: typing.BinaryIO = (
            io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")  # noqa: SIM115
        )
    except OSError as exc:
        raise ImageError("image.corrupt", source=label, detail=str(exc)) from exc
    with handle:
        return _decode(handle, label)


def _decode(handle: typing.BinaryIO, label: str) -> Decoded:
    try:
        with warnings.catch_warnings():
            # Pillow warns (rather than raises) between 1x and 2x its own limit.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(handle)
            pixels = image.width * image.height
            if pixels > MAX_PIXELS:
                raise ImageError("image.too_large", source=label, pixels=pixels, limit=MAX_PIXELS)
            image.load()
    except ImageError:
        raise
    except UnidentifiedImageError as exc:
        raise ImageError("image.not_image", source=label) from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError("image.too_large", source=label, pixels="?", limit=MAX_PIXELS) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError("image.corrupt", source=label, detail=str(exc)) from exc
    dpi = _dpi(image)
    orientation, stored_size = _orientation(image), image.size
    # Every copy of a 600-dpi A3 spread is 210 MB: turn in place, and convert and copy
    # into the array a band at a time (see _rgb_array).
    ImageOps.exif_transpose(image, in_place=True)
    array = _rgb_array(image)
    image.close()
    return Decoded(array, dpi, orientation, stored_size)


def _rgb_array(image: Image.Image) -> NDArray[np.uint8]:
    """``image``'s pixels as one RGB array, made a band of rows at a time.

    Pillow keeps RGB in four bytes a pixel, and ``np.asarray`` on it builds its bytes
    in chunks and then joins them: with the image, four copies of a 42-megapixel
    photo at once. Banded, only the array is added to the image. Converting a band
    is converting the whole image, pixel for pixel.
    """
    width, height = image.size
    array = np.empty((height, width, 3), dtype=np.uint8)
    for top in range(0, height, _BAND_ROWS):
        band = image.crop((0, top, width, min(height, top + _BAND_ROWS)))
        if band.mode != "RGB":
            band = band.convert("RGB")
        array[top : top + _BAND_ROWS] = np.asarray(band)
    return array


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation Pillow will apply (1 when none or not a valid value)."""
    value = image.getexif().get(ORIENTATION_TAG, 1)
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _dpi(image: Image.Image) -> int | None:
    value = image.info.get("dpi")
    if not value:
        return None
    try:
        dpi = round(float(value[0]))
    except (TypeError, ValueError, IndexError):
        return None
    return dpi if 50 <= dpi <= 2400 else None
