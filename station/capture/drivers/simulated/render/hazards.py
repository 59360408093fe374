"""Entries with what real material adds to the writing: ground truth for legibility.

Each function draws one entry-sized sample (paper, handwriting in small script with
Vietnamese diacritics, in black, or its first line black and the rest blue
ballpoint) with one hazard real books show:
a guilloche (printed security pattern) background, show-through of the reverse, a
water stain whose tide line is a smooth darker edge, or a stack of page edges at the
side. The truth is the writing's own ink, and apart from it the accents (the marks
above and below letters that small script loses first). The page renderer does not
use these: its pixels stay as they were, and the benches and tests ask for these
samples by name.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from station.capture.drivers.simulated.render import ink
from station.capture.drivers.simulated.render.paper import make_paper

log = logging.getLogger(__name__)

HAZARDS = ("plain", "guilloche", "show_through", "stain", "page_stack")
BLACK_INK = (38, 36, 40)
BLUE_INK = (40, 62, 150)
LINES = (
    "Nguyễn Thị Hồng Nhung, sinh ngày 12 tháng 3 năm 1987",
    "Quê quán: xã Đông Hưng, huyện Thủy Nguyên, Hải Phòng",
    "Người đi khai: Trần Văn Đức, quan hệ: cha đẻ",
)


@dataclass(frozen=True)
class Sample:
    """One simulated entry: its pixels, the writing's ink and the accents alone."""

    rgb: np.ndarray  # HxWx3 uint8
    ink: np.ndarray  # HxW bool: every pixel the writing covers
    accents: np.ndarray  # HxW bool: the components of the writing above or below letters
    blue: np.ndarray  # HxW bool: the writing in blue ink (empty for a black sample)
    dpi: int


def sample(
    hazard: str,
    seed: int = 0,
    *,
    blue: bool = False,
    faded: bool = False,
    dpi: int = 300,
    letter_mm: float = 2.2,
) -> Sample:
    """An entry of three lines of small script (``letter_mm`` high em) with ``hazard``.

    ``blue``: the first line stays black and the others are blue ballpoint (a form's
    black print beside blue writing); ``faded`` writing covers the paper at 40% (the
    encoder then enhances faint ink).
    """
    if hazard not in HAZARDS:
        raise ValueError(f"unknown hazard {hazard!r}; one of {HAZARDS}")
    rng = np.random.default_rng(seed)
    px_per_mm = dpi / 25.4
    size = (round(160 * px_per_mm), round(38 * px_per_mm))
    paper = make_paper(size, px_per_mm, rng, None).astype(np.float32)
    if hazard == "guilloche":
        _guilloche(paper, rng)
    elif hazard == "show_through":
        _show_through(paper, rng, px_per_mm)
    elif hazard == "stain":
        _stain(paper, rng, px_per_mm)
    elif hazard == "page_stack":
        _page_stack(paper, rng, px_per_mm)
    coverage, accents, first = _writing(size, rng, px_per_mm, letter_mm)
    colour = np.full((*coverage.shape, 3), BLACK_INK, np.float32)
    in_blue = coverage > 0 if blue else np.zeros(coverage.shape, bool)
    in_blue[:first] = False
    colour[in_blue] = BLUE_INK
    share = coverage.astype(np.float32)[..., None] / 255.0 * (0.4 if faded else 1.0)
    rgb = paper * (1.0 - share) + colour * share
    pixels = np.clip(rgb, 0, 255).astype(np.uint8)
    truth = coverage >= 128
    return Sample(pixels, truth, accents & truth, in_blue & truth, dpi)


def _writing(
    size: tuple[int, int], rng: np.random.Generator, px_per_mm: float, letter_mm: float
) -> tuple[np.ndarray, np.ndarray, int]:
    """Coverage of three handwritten lines, the accent components in it and the row
    halfway between the first two baselines."""
    layer = Image.new("L", size, 0)
    pen = ink.make_pen(rng, letter_mm * px_per_mm * 1.6, thin=False)
    pitch = size[1] / (len(LINES) + 0.6)
    for row, text in enumerate(LINES):
        origin = (6 * px_per_mm, pitch * (row + 1))
        ink.write(layer, origin, text, pen, rng, size[0] - 12 * px_per_mm)
    coverage = np.asarray(layer)
    return coverage, _accent_components(coverage >= 128, pen.size), round(pitch * 1.5)


def _accent_components(mask: np.ndarray, em: int) -> np.ndarray:
    """Small components of the writing: accents and dots (a letter body is bigger)."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask.view(np.uint8), 8)
    height = stats[:, cv2.CC_STAT_HEIGHT]
    width = stats[:, cv2.CC_STAT_WIDTH]
    small = (height < 0.3 * em) & (width < 0.45 * em) & (stats[:, cv2.CC_STAT_AREA] >= 4)
    small[0] = False
    accents: np.ndarray = small[labels]
    return accents


def _guilloche(paper: np.ndarray, rng: np.random.Generator) -> None:
    """A pale printed rosette of interlaced fine curves over the whole entry."""
    height, width = paper.shape[:2]
    hue = np.array([(150, 190, 160), (190, 160, 185), (150, 170, 205)][int(rng.integers(3))])
    strength = float(rng.uniform(0.25, 0.4))
    lines = np.zeros((height, width), np.uint8)
    t = np.linspace(0, 2 * math.pi, 4000)
    period = height * 0.55
    for cx in np.arange(-period, width + period, period * 0.9):
        for k in range(6):
            radius = period * (0.35 + 0.08 * k)
            lobes = 7 + k % 3
            r = radius * (1 + 0.18 * np.sin(lobes * t + k))
            points = np.column_stack([cx + r * np.cos(t), height / 2 + r * np.sin(t)])
            cv2.polylines(lines, [points.astype(np.int32)], True, 255, 1, cv2.LINE_AA)
    share = lines.astype(np.float32)[..., None] / 255.0 * strength
    paper *= 1.0 - share
    paper += share * hue


def _show_through(paper: np.ndarray, rng: np.random.Generator, px_per_mm: float) -> None:
    """The reverse's writing, mirrored, blurred by the paper and a little darker."""
    height, width = paper.shape[:2]
    layer = Image.new("L", (width, height), 0)
    pen = ink.make_pen(rng, 4.0 * px_per_mm, thin=False)
    for row in range(4):
        origin = (3 * px_per_mm, height * (0.25 + 0.22 * row))
        ink.write(layer, origin, "Giấy khai sinh bản sao số 1024", pen, rng, width)
    mirrored = np.ascontiguousarray(np.asarray(layer)[:, ::-1]).astype(np.float32) / 255.0
    blurred = cv2.GaussianBlur(mirrored, (0, 0), px_per_mm * 0.35)
    paper *= 1.0 - float(rng.uniform(0.2, 0.3)) * blurred[..., None]


def _stain(paper: np.ndarray, rng: np.random.Generator, px_per_mm: float) -> None:
    """A dried water stain: a faint tint inside, a darker, soft brown tide line at its
    edge, crossing the writing."""
    height, width = paper.shape[:2]
    y, x = np.mgrid[:height, :width].astype(np.float32)
    cx, cy = width * rng.uniform(0.3, 0.7), height * rng.uniform(0.3, 0.7)
    rx, ry = width * rng.uniform(0.18, 0.3), height * rng.uniform(0.5, 0.8)
    wobble = 1 + 0.06 * np.sin(5 * np.arctan2(y - cy, x - cx) + rng.uniform(0, 6))
    r = np.sqrt(((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2) / wobble
    edge_width = px_per_mm * rng.uniform(0.8, 1.5) / min(rx, ry)
    inside = np.clip((1 - r) * 8, 0, 1) * 0.05
    rim = np.exp(-(((r - 1) / edge_width) ** 2)) * rng.uniform(0.3, 0.4)
    darkening = (inside + rim)[..., None] * np.array([0.8, 1.0, 1.4], np.float32)
    paper *= 1.0 - darkening


def _page_stack(paper: np.ndarray, rng: np.random.Generator, px_per_mm: float) -> None:
    """Edges of the book's other leaves along the left side: brown bands and shadows."""
    width = paper.shape[1]
    x = 0.0
    limit = 9 * px_per_mm
    while x < limit:
        band = px_per_mm * rng.uniform(0.6, 1.6)
        shade = rng.uniform(0.45, 0.7)
        left, right = int(x), min(width, int(x + band))
        paper[:, left:right] *= np.array([shade, shade * 0.92, shade * 0.8], np.float32)
        x += band + px_per_mm * rng.uniform(0.3, 1.0)
