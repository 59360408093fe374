"""CCITT Group 4 encoding of a bilevel mask, ready to embed in a PDF unchanged.

Pillow (through libtiff) writes the G4 TIFF; we keep only the one strip of coded
data, because a PDF ``/CCITTFaxDecode`` stream is exactly that strip.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image, TiffImagePlugin

from station.core.errors import EncodeError

log = logging.getLogger(__name__)

_STRIP_OFFSETS = 273
_ROWS_PER_STRIP = 278
_STRIP_BYTE_COUNTS = 279


@dataclass(frozen=True)
class G4Image:
    """Raw CCITT G4 data of a bilevel image (fax "black" = the mask's True pixels)."""

    data: bytes
    width: int
    height: int


def encode_g4(mask: npt.NDArray[np.bool_]) -> G4Image:
    """Encode ``mask`` (True = ink) as one strip of pure 2-D CCITT G4 (K = -1).

    In the coded data True pixels are fax "black" runs and False pixels "white" runs:
    the paper is the long white runs G4 codes most cheaply. Decoded with
    ``BlackIs1 true`` a True pixel comes out as 1.
    """
    height, width = mask.shape
    if height == 0 or width == 0:
        raise EncodeError("encode.g4", size=f"{width}x{height}", detail="empty mask")
    # Pillow packs mode "1" value 255 as bit 1, which libtiff's fax coder writes as a
    # black run (TIFF says MinIsBlack, but the coded runs ignore photometry).
    image = Image.fromarray(mask)
    buffer = io.BytesIO()
    image.save(buffer, format="TIFF", compression="group4", tiffinfo={_ROWS_PER_STRIP: height})
    return G4Image(_single_strip(buffer.getvalue()), width, height)


def _single_strip(tiff: bytes) -> bytes:
    """The coded bytes of the only strip of a TIFF file."""
    with Image.open(io.BytesIO(tiff)) as parsed:
        assert isinstance(parsed, TiffImagePlugin.TiffImageFile)
        offsets = parsed.tag_v2[_STRIP_OFFSETS]
        counts = parsed.tag_v2[_STRIP_BYTE_COUNTS]
        size = f"{parsed.width}x{parsed.height}"
    if len(offsets) != 1 or len(counts) != 1:
        raise EncodeError("encode.g4", size=size, detail=f"{len(offsets)} strips, expected 1")
    start = int(offsets[0])
    return tiff[start : start + int(counts[0])]
