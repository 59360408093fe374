"""The rungs of the encoding ladder, each turning a prepared entry into PDF bytes.

:func:`prepare` does the costly shared work once (masks, colours, G4 coding); the
rungs then only choose resolutions and qualities.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

from station.processing.imaging.binarize import (
    BinarizeParams,
    InkMasks,
    faint_colour,
    ink_colour,
    ink_masks,
    mean_colour,
    paper_level,
)
from station.processing.imaging.hues import hue_groups
from station.processing.pdf.background import paper_background
from station.processing.pdf.compose import RGB, Stencil, compose_page
from station.processing.pdf.g4 import encode_g4
from station.processing.pdf.jpeg import JpegImage, encode_jpeg
from station.processing.pdf.save import save_pdf

log = logging.getLogger(__name__)

U8 = npt.NDArray[np.uint8]
Mask = npt.NDArray[np.bool_]
#: An entry's pixels: a Pillow image, or an RGB array (H x W x 3) such as the cut.
Pixels = Image.Image | U8

#: A downsampled mask pixel is ink when at least this share of it was ink: below
#: one half, so thin strokes survive the reduction.
_THIN_STROKE_COVER = 0.375
#: Faded entries get their greyscale contrast stretched by this factor.
_FADED_GAIN = 2.0


@dataclass(frozen=True)
class Layer:
    """One painted part of an entry: its mask at mask resolution and its stencil."""

    mask: Mask
    stencil: Stencil


@dataclass(frozen=True)
class Prepared:
    """An entry ready for the rungs: pixels at mask resolution and its masks.

    The strong ink and the faint layer are each one layer per hue (``hues``), the
    largest first: black print and blue writing keep their own colours.
    """

    rgb: U8
    mask_dpi: float
    page_pt: tuple[float, float]
    masks: InkMasks
    inks: tuple[Layer, ...]
    faints: tuple[Layer, ...]
    stamp: Layer | None
    info: Mapping[str, str]

    def stencils(self) -> list[Stencil]:
        """Seal first, then the faint layers, ink over them: a signature written
        over the seal stays visible."""
        layers = [self.stamp, *self.faints, *self.inks]
        return [layer.stencil for layer in layers if layer is not None]


def rgb_array(image: Pixels) -> U8:
    """``image`` as an RGB array; an array is taken as it is, not copied (a whole page
    of a 42-megapixel photo is 60 MB as an array, 80 MB more as a Pillow image)."""
    if isinstance(image, np.ndarray):
        return image
    return np.asarray(image if image.mode == "RGB" else image.convert("RGB"))


def prepare(
    image: Pixels,
    dpi: int,
    max_mask_dpi: int,
    params: BinarizeParams,
    info: Mapping[str, str],
) -> Prepared:
    """Reduce the entry to at most ``max_mask_dpi`` and compute its masks."""
    rgb = rgb_array(image)
    width, height = rgb.shape[1], rgb.shape[0]
    page_pt = (width * 72 / dpi, height * 72 / dpi)
    mask_dpi = float(dpi)
    if dpi > max_mask_dpi:
        rgb = _resize(rgb, dpi, max_mask_dpi)
        mask_dpi = rgb.shape[1] * dpi / width
    masks = ink_masks(rgb, mask_dpi, params)
    inks = tuple(
        Layer(part, Stencil(encode_g4(part), ink_colour(rgb, masks, part=part)))
        for part in hue_groups(rgb, masks.ink & ~masks.faint, masks.darkness)
    )
    faints = tuple(_faint_layers(rgb, masks, params))
    stamp = _stamp_layer(rgb, masks.stamp)
    return Prepared(rgb, mask_dpi, page_pt, masks, inks, faints, stamp, info)


def _faint_layers(rgb: U8, masks: InkMasks, params: BinarizeParams) -> list[Layer]:
    if not masks.faint.any():
        return []
    # The faint layer has no dark core: its pieces are classed by all their pixels.
    parts = hue_groups(rgb, masks.faint, masks.darkness, core_darkness=256)
    layers = []
    for part in parts:
        colour = faint_colour(rgb, masks, params, part=part)
        if colour is not None:
            layers.append(Layer(part, Stencil(encode_g4(part), colour)))
    return layers


def _stamp_layer(rgb: U8, stamp: Mask) -> Layer | None:
    colour = mean_colour(rgb, stamp)
    if colour is None:
        return None
    return Layer(stamp, Stencil(encode_g4(stamp), colour))


def _resize(pixels: U8, dpi: float, new_dpi: float) -> U8:
    """``pixels`` resampled from ``dpi`` to ``new_dpi`` (area averaging when reducing)."""
    height, width = pixels.shape[:2]
    size = (max(1, round(width * new_dpi / dpi)), max(1, round(height * new_dpi / dpi)))
    method = cv2.INTER_AREA if new_dpi < dpi else cv2.INTER_CUBIC
    resized: U8 = cv2.resize(pixels, size, interpolation=method)
    return resized


def composite(prepared: Prepared, background_dpi: int, quality: int) -> bytes:
    """Ink and seal stencils over a low-resolution colour JPEG of the bare paper."""
    covered = prepared.masks.ink | prepared.masks.stamp
    paper = paper_background(prepared.rgb, covered, prepared.mask_dpi, background_dpi)
    background = encode_jpeg(paper, quality)
    return _save(prepared, background, prepared.stencils())


def bilevel(prepared: Prepared, mask_dpi: float) -> bytes:
    """Ink and seal stencils on white paper, at ``mask_dpi`` (at most the prepared one)."""
    if mask_dpi >= prepared.mask_dpi:
        return _save(prepared, None, prepared.stencils())
    dpi = prepared.mask_dpi
    layers = [prepared.stamp, *prepared.faints, *prepared.inks]
    stencils = [
        _reduced(layer.mask, layer.stencil.colour, dpi, mask_dpi)
        for layer in layers
        if layer is not None
    ]
    return _save(prepared, None, stencils)


def _reduced(mask: Mask, colour: RGB, dpi: float, new_dpi: float) -> Stencil:
    cover = _resize(mask.view(np.uint8) * np.uint8(255), dpi, new_dpi)
    return Stencil(encode_g4(cover >= round(255 * _THIN_STROKE_COVER)), colour)


def greyscale(prepared: Prepared, dpi: float, quality: int) -> bytes:
    """A paper-flattened greyscale JPEG (the seal shows as grey; no masks)."""
    grey = cv2.cvtColor(prepared.rgb, cv2.COLOR_RGB2GRAY)
    grey = _resize(grey, prepared.mask_dpi, dpi) if dpi < prepared.mask_dpi else grey
    paper = paper_level(grey, dpi)
    # Dividing by the paper makes it white (cheap to code, easy to read); faded ink
    # is then stretched darker, as the masks paint it darker.
    gain = _FADED_GAIN if prepared.masks.assessment.faded else 1.0
    flat = cv2.divide(grey, paper, scale=255.0)
    levels = 255.0 - (255.0 - np.arange(256, dtype=np.float32)) * gain
    flat = cv2.LUT(flat, np.clip(levels, 0, 255).astype(np.uint8))
    return _save(prepared, encode_jpeg(flat, quality), [])


def _save(prepared: Prepared, background: JpegImage | None, stencils: list[Stencil]) -> bytes:
    width_pt, height_pt = prepared.page_pt
    pdf = compose_page(width_pt, height_pt, background, stencils, prepared.info)
    return save_pdf(pdf)
