"""What a photographed book adds to a flat sheet: curvature, page stacks, fold, hand.

All of it acts on the flat sheet (before skew or perspective), so the one transform
that follows moves it with everything else. Only the bend moves pixels; its forward
map is given in closed form for the truth polygons and inverted numerically for the
pixels, so truth and ink stay aligned.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import cv2
import numpy as np

log = logging.getLogger(__name__)

STRIP_ROWS = 256  # rows remapped at once: the maps of a whole A3 sheet cost 140 MB
INVERSE_STEPS = 6  # fixed-point steps; each shrinks the error by at least 4x
SKIN_RGB = (168, 118, 94)


@dataclass(frozen=True)
class Bend:
    """A page that is not flat: each point moves down by

    ``dy = amplitude * g(x) * sin(pi * y / height)``, with ``g`` a bump around the fold
    (or the bound edge of a single page). Rows bow near the fold; the sheet's top and
    bottom edges and every vertical line stay where they were.
    """

    amplitude: float  # pixels; negative bows upwards
    fold_x: float
    reach: float  # pixels over which the bend fades away from the fold
    height: float

    def shift(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Downward displacement at flat points (x, y)."""
        bump = np.exp(-(((x - self.fold_x) / self.reach) ** 2))
        result: np.ndarray = self.amplitude * bump * np.sin(math.pi * y / self.height)
        return result

    def forward(self, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        """Flat points to bent points."""
        array = np.asarray(points, np.float64)
        moved = array[:, 1] + self.shift(array[:, 0], array[:, 1])
        return [(float(x), float(y)) for x, y in zip(array[:, 0], moved, strict=True)]

    def apply(self, image: np.ndarray) -> np.ndarray:
        """``image`` (HxW or HxWxC) as the bent sheet shows it."""
        height, width = image.shape[:2]
        out = np.empty_like(image)
        xs = np.arange(width, dtype=np.float32)
        for top in range(0, height, STRIP_ROWS):
            rows = np.arange(top, min(height, top + STRIP_ROWS), dtype=np.float32)
            map_x, wanted = np.meshgrid(xs, rows)
            source = wanted.copy()
            for _ in range(INVERSE_STEPS):
                source = wanted - self.shift(map_x, source).astype(np.float32)
            out[top : top + len(rows)] = cv2.remap(
                image, map_x, source, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
            )
        return out


def make_bend(
    amplitude_mm: float, size: tuple[int, int], px_per_mm: float, fold_x: float | None,
    rng: np.random.Generator,
) -> Bend | None:  # fmt: skip
    """A random bend up to ``amplitude_mm``; None when the page is flat."""
    if amplitude_mm <= 0:
        return None
    width, height = size
    amplitude = float(rng.uniform(0.5, 1.0)) * amplitude_mm * px_per_mm
    sign = 1.0 if rng.random() < 0.5 else -1.0
    reach = float(rng.uniform(0.15, 0.3)) * width
    return Bend(sign * amplitude, 0.0 if fold_x is None else fold_x, reach, float(height))


def scale_columns(flat: np.ndarray, factor: np.ndarray, left: int = 0) -> None:
    """Multiply columns ``left ..`` of the sheet by ``factor`` (one value a column)."""
    right = left + len(factor)
    gain = factor.astype(np.float32)[None, :, None]
    for top in range(0, flat.shape[0], STRIP_ROWS):
        part = flat[top : top + STRIP_ROWS, left:right].astype(np.float32) * gain
        flat[top : top + STRIP_ROWS, left:right] = np.clip(part, 0, 255).astype(np.uint8)


def shade_fold(flat: np.ndarray, fold_x: float, px_per_mm: float, rng: np.random.Generator) -> None:
    """The pages curving down into the fold: a wide soft darkening on both sides."""
    dx = (np.arange(flat.shape[1], dtype=np.float32) - fold_x) / px_per_mm
    depth, width = rng.uniform(0.12, 0.3), rng.uniform(12, 28)
    scale_columns(flat, 1.0 - depth * np.exp(-((dx / width) ** 2)))


def page_stack(flat: np.ndarray, px_per_mm: float, sides: tuple[str, ...],
               rng: np.random.Generator) -> None:  # fmt: skip
    """The edges of the leaves under the top one, showing at the sheet's outer sides."""
    for side in sides:
        band = int(px_per_mm * rng.uniform(3.0, 6.0))
        factor = np.full(band, rng.uniform(0.8, 0.9), np.float32)
        position = 0.0
        while position < band - 1:
            position += px_per_mm * rng.uniform(0.25, 0.8)
            index = min(band - 1, int(position))
            factor[index] *= rng.uniform(0.55, 0.8)
        factor[-max(1, int(px_per_mm * 0.3)) :] *= 0.6  # the top leaf's shadow
        if side == "left":
            scale_columns(flat, factor, 0)
        else:
            scale_columns(flat, factor[::-1], flat.shape[1] - band)


def hold_by_hand(
    flat: np.ndarray, px_per_mm: float, side: str, reach: float, rng: np.random.Generator
) -> tuple[float, float, float, float]:
    """A thumb and the edge of a palm over one outer margin, never past ``reach`` px
    from that edge (where the writing starts). Returns the box it darkens."""
    height, width = flat.shape[:2]
    mm = px_per_mm
    blur = mm * 1.0
    limit = reach - 3 * blur  # the soft edge stays clear of the writing too
    cy = float(rng.uniform(0.25, 0.75)) * height
    half = float(rng.uniform(9, 13)) * mm
    box_w = int(limit)
    top, bottom = int(max(0, cy - 4 * half)), int(min(height, cy + 4 * half))
    y, x = np.mgrid[top:bottom, 0:box_w].astype(np.float32)
    thumb = ((x - limit * 0.35) / (limit * 0.65)) ** 2 + ((y - cy) / half) ** 2 <= 1
    palm_cy = cy + half * float(rng.uniform(1.2, 2.0))
    palm = ((x + limit * 1.6) / (limit * 2.0)) ** 2 + ((y - palm_cy) / (half * 2.6)) ** 2 <= 1
    alpha = cv2.GaussianBlur((thumb | palm).astype(np.float32), (0, 0), blur)
    shade = 0.55 + 0.25 * np.clip((x / max(limit, 1.0)), 0, 1)  # darker towards the edge
    colour = np.array(SKIN_RGB, np.float32) * float(rng.uniform(0.7, 1.0))
    left = 0 if side == "left" else width - box_w
    if side == "right":
        alpha, shade = alpha[:, ::-1], shade[:, ::-1]
    part = flat[top:bottom, left : left + box_w].astype(np.float32)
    a = alpha[..., None]
    mixed = part * (1 - a) + colour * shade[..., None] * a
    flat[top:bottom, left : left + box_w] = np.clip(mixed, 0, 255).astype(np.uint8)
    return float(left), float(top), float(left + box_w), float(bottom)
