"""The colour layer under the stencils: the bare paper at low resolution.

Ink and seal are carried sharp by the stencils, so the background shows only paper
tone. Their pixels are left out of the averages (normalised averaging), and places
they cover completely are filled in from the paper around them, so no blurred
ghost of a stroke or a coloured halo of the seal shows through.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

U8 = npt.NDArray[np.uint8]
Mask = npt.NDArray[np.bool_]

#: A background pixel is measured when at least this share of it is bare paper.
_MIN_PAPER_SHARE = 0.25


def paper_background(rgb: U8, covered: Mask, dpi: float, background_dpi: float) -> U8:
    """The paper colour of ``rgb`` at ``background_dpi``, ignoring ``covered`` pixels."""
    height, width = covered.shape
    size = (
        max(1, round(width * background_dpi / dpi)),
        max(1, round(height * background_dpi / dpi)),
    )
    # Strokes are blurred a pixel or two beyond their mask; leave that halo out too.
    grow = max(3, round(dpi / 60)) | 1
    grown = cv2.dilate(covered.view(np.uint8), np.ones((grow, grow), np.uint8))
    keep = cv2.compare(grown, 0, cv2.CMP_EQ)  # 255 on bare paper, 0 where covered
    bare = cv2.bitwise_and(rgb, rgb, mask=keep)
    total = cv2.resize(bare, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    share = cv2.resize(keep, size, interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    measured = share >= _MIN_PAPER_SHARE
    paper = total / np.maximum(share, _MIN_PAPER_SHARE)[..., None]
    paper = np.clip(paper, 0, 255).astype(np.uint8)
    if not measured.all():
        unknown = (~measured).view(np.uint8)
        paper = cv2.inpaint(paper, unknown, 3, cv2.INPAINT_TELEA)
    # The grain is noise, not information: smoothing it keeps the JPEG small and
    # free of blotchy blocks.
    smooth: U8 = cv2.GaussianBlur(paper, (0, 0), 1.2, borderType=cv2.BORDER_REPLICATE)
    return smooth
