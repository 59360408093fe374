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
        width, height = self.stored_size
        return geo.invert(geo.exif_upright(self.orientation, width, height))


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
    # Every copy of a 600-dpi A3 spread is 210 MB: turn in place, convert only when
    # needed, and let each superseded image go before the next one is made.
    ImageOps.exif_transpose(image, in_place=True)
    rgb: Image.Image = image
    if image.mode != "RGB":
        rgb = image.convert("RGB")
        image.close()  # the decoded original goes before the array copy is made
    array: NDArray[np.uint8] = np.asarray(rgb)
    rgb.close()
    return Decoded(array, dpi, orientation, stored_size)


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
