"""Entry segmentation: propose one region per ledger entry on a captured image.

Pure functions of an image and a layout profile. The work happens on a small copy
(about 75 dpi), which is plenty to find ruled lines and the gutter and keeps a Pi fast;
boxes are scaled back to the capture's pixels. Every region is expressed in the
*deskewed* frame of the capture (rotated about its centre by ``angle``), so cutting it
out is a rotation followed by a plain crop (:func:`crop_region`).
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray

from station.layouts import LayoutProfile

log = logging.getLogger(__name__)

WORK_DPI = 75
Gray = NDArray[np.uint8]


def _u8(array: object) -> NDArray[np.uint8]:
    """View OpenCV's loosely typed result as the uint8 array it is (no copy)."""
    return np.asarray(array, dtype=np.uint8)


@dataclass(frozen=True)
class ProposedRegion:
    """A candidate entry: box in the deskewed capture frame, page side, confidence."""

    box: tuple[int, int, int, int]
    page_side: int
    confidence: float


@dataclass(frozen=True)
class Segmentation:
    """What segmentation found on one image."""

    regions: list[ProposedRegion]
    angle: float
    flags: list[str] = field(default_factory=list)
    gutter_x: int | None = None

    @property
    def confidence(self) -> float:
        return min((r.confidence for r in self.regions), default=0.0)


def segment(rgb: NDArray[np.uint8], dpi: int, profile: LayoutProfile) -> Segmentation:
    """Propose entry regions on ``rgb`` (H x W x 3) according to ``profile``."""
    scale = min(1.0, WORK_DPI / dpi)
    gray = _u8(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    small = _u8(cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA))
    angle = estimate_skew(small)
    small = rotate(small, angle, border=255)
    pages, gutter = split_pages(small, profile.pages_per_image)
    regions: list[ProposedRegion] = []
    flags: list[str] = []
    for side, (x0, x1) in enumerate(pages):
        found = _entries_on_page(small[:, x0:x1], profile)
        if not profile.entries_min <= len(found) <= profile.entries_max:
            flags.append("count_mismatch")
        for top, bottom, left, right, confidence in found:
            box = (x0 + left, top, x0 + right, bottom)
            regions.append(ProposedRegion(_upscale(box, scale, gray.shape), side, confidence))
    if any(r.confidence < 0.6 for r in regions):
        flags.append("low_confidence")
    gutter_full = None if gutter is None else round(gutter / scale)
    return Segmentation(regions, angle, sorted(set(flags)), gutter_full)


def _upscale(
    box: tuple[int, int, int, int], scale: float, shape: tuple[int, ...]
) -> tuple[int, int, int, int]:
    left, top, right, bottom = (round(v / scale) for v in box)
    height, width = shape[:2]
    return (max(0, left), max(0, top), min(width, right), min(height, bottom))


def ink_mask(gray: Gray) -> Gray:
    """Dark strokes against the local paper (255 = ink), robust to uneven light."""
    block = max(15, (min(gray.shape) // 20) | 1)
    return _u8(
        cv2.adaptiveThreshold(
            gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 15
        )
    )


def estimate_skew(gray: Gray, max_angle: float = 8.0) -> float:
    """Skew in degrees (positive: counter-clockwise) from the long ruled lines."""
    ink = ink_mask(gray)
    min_length = gray.shape[1] // 4
    lines = cv2.HoughLinesP(ink, 1, np.pi / 720, 80, minLineLength=min_length, maxLineGap=4)
    if lines is None:
        return 0.0
    angles = []
    for x1, y1, x2, y2 in np.asarray(lines).reshape(-1, 4):
        angle = float(np.degrees(np.arctan2(y2 - y1, x2 - x1)))
        if abs(angle) <= max_angle:
            angles.append(angle)
    return float(np.median(angles)) if angles else 0.0


def rotate(
    image: NDArray[np.uint8], angle: float, border: int | tuple[int, ...]
) -> NDArray[np.uint8]:
    """Rotate about the centre by ``angle`` degrees, keeping the size (deskew)."""
    if abs(angle) < 0.05:
        return image
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    return _u8(
        cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR, borderValue=border)
    )


def split_pages(gray: Gray, pages: int) -> tuple[list[tuple[int, int]], int | None]:
    """Column ranges of each page; a spread is split at the binding's shadow."""
    width = gray.shape[1]
    if pages == 1:
        return [(0, width)], None
    lo, hi = int(width * 0.4), int(width * 0.6)
    band = gray[gray.shape[0] // 4 : 3 * gray.shape[0] // 4, lo:hi].astype(np.float32)
    profile = cv2.blur(band.mean(axis=0).reshape(1, -1), (9, 1)).ravel()
    gutter = lo + int(np.argmin(profile))
    return [(0, gutter), (gutter, width)], gutter


def _ruled_rows(ink: Gray) -> list[int]:
    """Rows of horizontal ruled lines that span most of the page width."""
    width = ink.shape[1]
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (max(10, width // 3), 1))
    lines = cv2.morphologyEx(ink, cv2.MORPH_OPEN, kernel)
    coverage = (lines > 0).sum(axis=1) / width
    rows = np.flatnonzero(coverage > 0.5)
    groups: list[list[int]] = []
    for row in rows:
        if groups and row - groups[-1][-1] <= 3:
            groups[-1].append(int(row))
        else:
            groups.append([int(row)])
    return [round(sum(g) / len(g)) for g in groups]


def _content_columns(ink: Gray) -> tuple[int, int]:
    cols = np.flatnonzero(ink.sum(axis=0) > 0)
    if cols.size == 0:
        return 0, ink.shape[1]
    return int(cols[0]), int(cols[-1]) + 1


def _entries_on_page(gray: Gray, profile: LayoutProfile) -> list[tuple[int, int, int, int, float]]:
    """Entries on one page as (top, bottom, left, right, confidence) in page pixels."""
    ink = ink_mask(gray)
    left, right = _content_columns(ink)
    if profile.fixed_count and profile.entries_max == 1:
        rows = np.flatnonzero(ink.sum(axis=1) > 0)
        if rows.size == 0:
            return []
        return [(int(rows[0]), int(rows[-1]) + 1, left, right, 0.9)]
    lines = _ruled_rows(ink)
    bands = []
    min_height = gray.shape[0] // 20
    for top, bottom in itertools.pairwise(lines):
        band_ink = ink[top + 2 : bottom - 1, left:right]
        if bottom - top >= min_height and band_ink.mean() > 2.0:
            bands.append((top, bottom + 1, left, right, 0.8))
    return bands


def crop_region(
    rgb: NDArray[np.uint8], box: tuple[int, int, int, int], angle: float
) -> NDArray[np.uint8]:
    """Cut a region out of the capture: deskew by ``angle``, then crop ``box``."""
    left, top, right, bottom = box
    if abs(angle) < 0.05:
        return np.ascontiguousarray(rgb[top:bottom, left:right])
    # Shifting the rotation by the box origin makes warpAffine compute only the box's
    # pixels instead of rotating the whole capture.
    height, width = rgb.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    matrix[:, 2] -= (left, top)
    window = cv2.warpAffine(
        rgb,
        matrix,
        (right - left, bottom - top),
        flags=cv2.INTER_LINEAR,
        borderValue=(255, 255, 255),
    )
    return _u8(window)
