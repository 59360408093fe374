"""Legibility checks on a rendered PDF, shared by the tests and the benchmark.

The rules compare a render (``pdftoppm -r <dpi>`` of an entry PDF) with the masks of
what was drawn or captured, pixel for pixel at the same resolution.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

U8 = npt.NDArray[np.uint8]
Mask = npt.NDArray[np.bool_]

#: An ink pixel is visible when it is at least this many grey levels darker than
#: the local paper of the render.
VISIBLE_STEP = 20
#: A seal pixel is red when R - max(G, B) is at least this.
RED_EXCESS = 40


def _common(rendered: npt.NDArray[np.uint8], mask: Mask) -> tuple[U8, Mask]:
    """Crop both to their common size: renders may differ from the input by a pixel."""
    height = min(rendered.shape[0], mask.shape[0])
    width = min(rendered.shape[1], mask.shape[1])
    return rendered[:height, :width], mask[:height, :width]


def _grey(rendered: U8) -> U8:
    if rendered.ndim == 2:
        return rendered
    grey: U8 = cv2.cvtColor(np.ascontiguousarray(rendered), cv2.COLOR_RGB2GRAY)
    return grey


def local_paper(grey: U8, dpi: float) -> U8:
    """Local paper level: the median grey of a window of about 1/4 inch.

    Computed on every 3rd pixel (a subsample, not an average, so the median is of
    real pixel values) and interpolated back; ink covers well under half of any
    quarter-inch window of an entry, so the median is paper.
    """
    step = 3
    sample = np.ascontiguousarray(grey[::step, ::step])
    size = max(3, round(dpi / 4 / step)) | 1
    median = cv2.medianBlur(sample, min(size, 255))
    height, width = grey.shape
    paper: U8 = cv2.resize(median, (width, height), interpolation=cv2.INTER_LINEAR)
    return paper


def ink_recall(rendered: U8, mask: Mask, dpi: float = 300) -> float:
    """Share of ``mask`` pixels that are visibly dark in ``rendered``.

    Rule: convert the render to grey (ITU-R 601 luma); the local paper is the median
    grey over a ~1/4-inch window (:func:`local_paper`); a mask pixel is visible when
    its grey is at least ``VISIBLE_STEP`` (20) levels below that paper. ``rendered``
    (HxW or HxWx3 uint8) and ``mask`` are at the same resolution (``dpi``); a size
    difference of a pixel or two is cropped away. Returns 1.0 for an empty mask.
    """
    rendered, mask = _common(rendered, mask)
    total = int(np.count_nonzero(mask))
    if total == 0:
        return 1.0
    grey = _grey(rendered)
    paper = local_paper(grey, dpi).astype(np.int16)
    visible = grey.astype(np.int16) <= paper - VISIBLE_STEP
    return int(np.count_nonzero(visible & mask)) / total


def stamp_redness(rendered: U8, stamp: Mask) -> float:
    """Median of R - max(G, B) over the ``stamp`` pixels of an RGB render (0 if empty)."""
    rendered, stamp = _common(rendered, stamp)
    pixels = rendered[stamp].astype(np.int16)
    if pixels.shape[0] == 0:
        return 0.0
    excess = pixels[:, 0] - np.maximum(pixels[:, 1], pixels[:, 2])
    return float(np.median(excess))


def stamp_is_red(rendered: U8, stamp: Mask) -> bool:
    """Whether the seal is still red: median R - max(G, B) over its pixels ≥ 40."""
    return stamp_redness(rendered, stamp) >= RED_EXCESS
