"""Baseline JPEG encoding of numpy images, for embedding as ``/DCTDecode`` unchanged."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JpegImage:
    """JPEG bytes with the facts a PDF image dictionary needs."""

    data: bytes
    width: int
    height: int
    grey: bool


def encode_jpeg(pixels: npt.NDArray[np.uint8], quality: int) -> JpegImage:
    """Encode an ``HxW`` (grey) or ``HxWx3`` (RGB) uint8 array as a baseline JPEG.

    Baseline, not progressive: every PDF viewer decodes it, and Huffman optimisation
    already gives most of the size a progressive file would save.
    """
    grey = pixels.ndim == 2
    image = Image.fromarray(pixels, mode="L" if grey else "RGB")
    buffer = io.BytesIO()
    # 4:2:0 chroma: the colour layer only shows paper tone, so its chroma is smooth.
    image.save(buffer, format="JPEG", quality=quality, optimize=True, subsampling=2)
    height, width = pixels.shape[:2]
    return JpegImage(buffer.getvalue(), width, height, grey)
