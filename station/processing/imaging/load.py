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
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps, UnidentifiedImageError

from station.core.errors import ImageError
from station.core.limits import MAX_PIXELS

log = logging.getLogger(__name__)


def load_rgb(source: Path | bytes, name: str = "") -> tuple[NDArray[np.uint8], int | None]:
    """Decode ``source`` to an RGB array (phone EXIF orientation applied) and its dpi."""
    label = name or (str(source) if isinstance(source, Path) else "(upload)")
    try:
        handle: typing.BinaryIO = (
            io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")  # noqa: SIM115
        )
    except OSError as exc:
        raise ImageError("image.corrupt", source=label, detail=str(exc)) from exc
    with handle:
        return _decode(handle, label)


def _decode(handle: typing.BinaryIO, label: str) -> tuple[NDArray[np.uint8], int | None]:
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
    # Every copy of a 600-dpi A3 spread is 210 MB: turn in place, convert only when
    # needed, and let each superseded image go before the next one is made.
    ImageOps.exif_transpose(image, in_place=True)
    rgb: Image.Image = image
    if image.mode != "RGB":
        rgb = image.convert("RGB")
        image.close()  # the decoded original goes before the array copy is made
    array: NDArray[np.uint8] = np.asarray(rgb)
    rgb.close()
    return array, dpi


def _dpi(image: Image.Image) -> int | None:
    value = image.info.get("dpi")
    if not value:
        return None
    try:
        dpi = round(float(value[0]))
    except (TypeError, ValueError, IndexError):
        return None
    return dpi if 50 <= dpi <= 2400 else None
