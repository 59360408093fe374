"""The review view of a capture: one upright frame for the page image, its boxes and re-cuts.

Segmentation cuts each entry in a *page frame* of its own (one homography per page of
a spread, see :mod:`station.processing.imaging.segment`), so the regions of one capture live in
different frames. The touch screen needs one picture with every cut line drawn on it,
and an operator's box drawn on that picture must cut exactly what it shows.

Choice: the view frame is the *normalised capture*, the frame normalisation works in
(:func:`station.processing.imaging.normalise.normalise`: paper found and perspective corrected for
camera shots, quarter turns, deskew) at the capture's own resolution. Both pages of a
spread share it, and each region's outline (its page-frame box taken back through its
warp) maps into it as a near-perfect rectangle (within a few pixels on the simulated
corpus, camera shots included); its bounding box is the box the UI draws. A box the
operator draws is cut with the view homography itself as the region's warp
(``crop_region(rgb, box, warp=view)``), so the PDF holds exactly the pixels drawn
around, straight from the full-resolution capture. Regions the operator leaves alone
keep their own, exact page-frame warp.

Normalisation is deterministic, but it is an imaging step whose code may improve, so
the frame of each capture is computed once and kept (``views/<book>/<capture>.json``):
boxes drawn in it stay valid. Segmentation may also turn a page upside down after
normalising; the frame is turned to match the regions' own reading direction.
"""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from station.core.models import Region
from station.processing.imaging import geometry as geo
from station.processing.imaging import normalise as nm
from station.processing.imaging.segment import region_polygon

log = logging.getLogger(__name__)

Box = tuple[int, int, int, int]
JPEG_QUALITY = 80
#: Width of the page image on the main (capture) screen, made as soon as a page is
#: processed.
SCREEN_WIDTH = 720
#: Widths the page image is made at (a request is served at the widest not above it),
#: so the cache holds a few files per page, not one per window size.
WIDTHS = (320, 480, 640, 800, 1024, 1280, 1600, 1920, 2560, 3200, 4000)


@dataclass(frozen=True)
class ViewFrame:
    """Homography from capture pixels to the view, and the view's size in pixels."""

    matrix: tuple[float, ...]  # 9 floats, row-major
    width: int
    height: int
    pages: int = 1  # pages side by side (2 for a spread)
    gutter: float | None = None  # x of the spread's gutter in the view

    def to_dict(self) -> dict[str, Any]:
        return {
            "matrix": list(self.matrix),
            "width": self.width,
            "height": self.height,
            "pages": self.pages,
            "gutter": self.gutter,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ViewFrame:
        gutter = data.get("gutter")
        return cls(
            tuple(float(v) for v in data["matrix"]),
            int(data["width"]),
            int(data["height"]),
            int(data.get("pages", 1)),
            None if gutter is None else float(gutter),
        )

    @property
    def array(self) -> geo.Matrix:
        return np.asarray(self.matrix, dtype=np.float64).reshape(3, 3)

    def box_of(self, region: Region, capture_size: tuple[int, int]) -> Box:
        """The region's bounding box in the view (the bounds of the outline the screen
        is given, to 0.1 px), clamped to it."""
        outline = np.round(self._outline(region, capture_size), 1)
        left, top = np.floor(outline.min(axis=0))
        right, bottom = np.ceil(outline.max(axis=0))
        return self.clamp((int(left), int(top), int(right), int(bottom)))

    def outline_of(self, region: Region, capture_size: tuple[int, int]) -> list[list[float]] | None:
        """The region's outline in the view (0.1 px, clockwise from the top left) when
        its edges step round the writing or follow a bent page; None when its four
        corners are all there is to it (the screen draws its box)."""
        if region.shape is None and region.bend is None:
            return None
        outline = self._outline(region, capture_size)
        return [[round(float(x), 1), round(float(y), 1)] for x, y in outline]

    def _outline(self, region: Region, capture_size: tuple[int, int]) -> NDArray[np.float64]:
        """The region's whole outline (what its file holds) in the view."""
        return geo.apply(self.array, region_outline(region, capture_size, exact=True))

    def clamp(self, box: Sequence[int]) -> Box:
        """``box`` limited to the view."""
        left, top, right, bottom = (int(v) for v in box)
        return (
            min(max(left, 0), self.width),
            min(max(top, 0), self.height),
            min(max(right, 0), self.width),
            min(max(bottom, 0), self.height),
        )

    def side_of(self, box: Sequence[int]) -> int:
        """The page of a spread a box is on (0: left or only page, 1: right)."""
        if self.pages < 2:
            return 0
        gutter = self.gutter if self.gutter is not None else self.width / 2
        return 0 if (box[0] + box[2]) / 2 < gutter else 1

    def region(self, capture_id: str, box: Box, page_number: int | None, angle: float) -> Region:
        """A region for a box drawn in the view: cut with the view homography itself."""
        return Region(
            capture_id=capture_id,
            box=box,
            page_side=self.side_of(box),
            page_number=page_number,
            confidence=1.0,
            angle=angle,
            warp=list(self.matrix),
        )


def region_outline(
    region: Region, capture_size: tuple[int, int], exact: bool = False
) -> NDArray[np.float64]:
    """The region's corners (TL, TR, BR, BL) in capture pixels, whatever its frame;
    ``exact``: its whole outline, along its stepped or bent edges where it has them
    (what its file holds), clockwise from the top left."""
    if region.warp is not None or abs(region.angle) < 0.05:
        if exact:
            return region_polygon(region.box, region.warp, region.bend, region.shape)
        return region_polygon(region.box, region.warp)
    # The legacy form: the box is in the capture deskewed by ``angle`` about its centre.
    width, height = capture_size
    deskew = geo.rotation(region.angle, (width / 2, height / 2))
    return geo.apply(geo.invert(deskew), region_polygon(region.box, None))


def compute_frame(
    rgb: NDArray[np.uint8], dpi: int, pages: int, regions: Sequence[Region]
) -> ViewFrame:
    """The view frame of a capture whose proposed regions are ``regions``."""
    norm = nm.normalise(rgb, dpi, landscape=pages == 2)
    small_h, small_w = norm.flat.shape
    width = max(1, round(small_w / norm.work_scale))
    height = max(1, round(small_h / norm.work_scale))
    matrix = geo.scale(1 / norm.work_scale) @ norm.matrix
    turns = _turns_to_upright(matrix, regions, (rgb.shape[1], rgb.shape[0]))
    if turns:
        matrix = geo.quarter_turn(turns, width, height) @ matrix
        if turns % 2:
            width, height = height, width
    frame = ViewFrame(tuple(float(v) for v in matrix.ravel()), width, height, pages)
    return _with_gutter(frame, regions, (rgb.shape[1], rgb.shape[0]))


def identity_frame(width: int, height: int, pages: int) -> ViewFrame:
    """The capture as it is (used when its raw image cannot be read)."""
    return ViewFrame(tuple(float(v) for v in np.eye(3).ravel()), width, height, pages)


def _turns_to_upright(matrix: geo.Matrix, regions: Sequence[Region], size: tuple[int, int]) -> int:
    """Clockwise quarter turns that make the regions' top edges run left to right."""
    directions = []
    for region in regions:
        outline = geo.apply(matrix, region_outline(region, size))
        dx, dy = outline[1] - outline[0]
        if dx or dy:
            directions.append(math.atan2(dy, dx))
    if not directions:
        return 0
    mean = math.degrees(math.atan2(np.mean(np.sin(directions)), np.mean(np.cos(directions))))
    # Each clockwise quarter turn adds 90 degrees to a direction (y grows downwards).
    return round(-mean / 90) % 4


def _with_gutter(frame: ViewFrame, regions: Sequence[Region], size: tuple[int, int]) -> ViewFrame:
    if frame.pages < 2:
        return frame
    left = [frame.box_of(r, size) for r in regions if r.page_side == 0]
    right = [frame.box_of(r, size) for r in regions if r.page_side == 1]
    gutter = frame.width / 2
    if left and right:
        gutter = (max(b[2] for b in left) + min(b[0] for b in right)) / 2
    return ViewFrame(frame.matrix, frame.width, frame.height, frame.pages, gutter)


def snap_width(requested: int, frame: ViewFrame) -> int:
    """The width a page image is made at for a request of ``requested`` pixels."""
    fitting = [w for w in WIDTHS if w <= max(requested, WIDTHS[0])]
    return min(fitting[-1], frame.width)


def render_view(rgb: NDArray[np.uint8], frame: ViewFrame, width: int) -> bytes:
    """The view at ``width`` pixels wide as a JPEG (the capture is shrunk first, so the
    warp never samples a full-resolution image sparsely)."""
    scale = min(1.0, width / frame.width)
    shrink = min(1.0, scale * 1.2)
    small = rgb
    if shrink < 1.0:
        small = nm.u8(cv2.resize(rgb, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA))
    matrix = geo.scale(scale) @ frame.array @ geo.scale(1 / shrink)
    size = (max(1, round(frame.width * scale)), max(1, round(frame.height * scale)))
    view = cv2.warpPerspective(
        small, matrix, size, flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255)
    )
    buffer = io.BytesIO()
    Image.fromarray(nm.u8(view)).save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return buffer.getvalue()
