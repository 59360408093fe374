"""Paper, light and table: the photographic side of the simulated ledgers.

Slowly varying things (yellowing, mottling, uneven light, the gutter's shadow, a
phone's vignetting) are computed on a coarse grid and enlarged with OpenCV; only the
grain and the fibres are made at full resolution, from raw random bytes, so a 300-dpi
A3 sheet costs tens of milliseconds rather than seconds.
"""

from __future__ import annotations

import logging
import math

import cv2
import numpy as np

log = logging.getLogger(__name__)

#: Paper shades from fairly fresh to well yellowed (RGB).
PAPER_SHADES = ((240, 233, 210), (236, 226, 196), (230, 216, 182), (226, 210, 172))
TABLE_SHADES = ((78, 60, 46), (62, 62, 64), (102, 80, 58), (48, 44, 42))
GRID_MM = 1.5  # one coarse-grid cell


def _grid(size: tuple[int, int], px_per_mm: float) -> tuple[int, int, float]:
    step = max(2.0, px_per_mm * GRID_MM)
    return max(4, math.ceil(size[0] / step)), max(4, math.ceil(size[1] / step)), step


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, ...], sigma: float) -> np.ndarray:
    """Zero-mean, unit-ish noise blurred over ``sigma`` grid cells."""
    noise = rng.normal(0.0, 1.0, shape).astype(np.float32)
    blurred: np.ndarray = cv2.GaussianBlur(noise, (0, 0), sigma)
    return blurred / max(float(blurred.std()), 1e-6)


def illumination(
    grid: tuple[int, int, float], rng: np.random.Generator, gutter_x: float | None
) -> np.ndarray:
    """Light falling on the sheet: a gradient, a vignette and the gutter's shadow."""
    cols, rows, step = grid
    x = (np.arange(cols, dtype=np.float32) + 0.5) / cols
    y = (np.arange(rows, dtype=np.float32) + 0.5) / rows
    gx, gy = np.meshgrid(x, y)
    angle = rng.uniform(0, 2 * math.pi)
    light = 1.0 + rng.uniform(0.04, 0.14) * (
        math.cos(angle) * (gx - 0.5) + math.sin(angle) * (gy - 0.5)
    )
    light -= rng.uniform(0.04, 0.12) * ((gx - 0.5) ** 2 + (gy - 0.5) ** 2) * 2
    if gutter_x is not None:
        dx = (gx * cols * step - gutter_x) / step * GRID_MM  # millimetres from the fold
        light *= 1.0 - rng.uniform(0.25, 0.45) * np.exp(-((dx / rng.uniform(7, 12)) ** 2))
        light *= 1.0 - 0.25 * np.exp(-((dx / 1.2) ** 2))
    return np.clip(light, 0.3, 1.05)


def make_paper(
    size: tuple[int, int], px_per_mm: float, rng: np.random.Generator, gutter_x: float | None
) -> np.ndarray:
    """The lit, empty sheet as an HxWx3 uint8 array."""
    grid = _grid(size, px_per_mm)
    cols, rows, _ = grid
    shade = np.array(PAPER_SHADES[int(rng.integers(len(PAPER_SHADES)))], dtype=np.float32)
    mottle = 1.0 + 0.015 * _smooth_noise(rng, (rows, cols), 6.0)[..., None]
    tint = 1.0 + 0.008 * _smooth_noise(rng, (rows, cols, 3), 10.0)
    small = shade * mottle * tint * illumination(grid, rng, gutter_x)[..., None]
    _foxing(small, rng)
    paper: np.ndarray = cv2.resize(
        np.clip(small, 0, 255).astype(np.uint8), size, interpolation=cv2.INTER_LINEAR
    )
    _grain(paper, rng, 7)
    _fibres(paper, px_per_mm, rng)
    return paper


def _foxing(small: np.ndarray, rng: np.random.Generator) -> None:
    """A few brownish age spots."""
    rows, cols = small.shape[:2]
    for _ in range(int(rng.integers(0, 5))):
        cx, cy = rng.uniform(0, cols), rng.uniform(0, rows)
        radius = rng.uniform(1.5, 5.0)
        y, x = np.ogrid[:rows, :cols]
        spot = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * radius**2))[..., None]
        small *= 1.0 - rng.uniform(0.04, 0.1) * spot * np.array([0.6, 1.0, 1.6], np.float32)


def _grain(image: np.ndarray, rng: np.random.Generator, mask: int) -> None:
    """Darken every pixel by 0..mask at random (``mask`` is 2**k - 1), in place."""
    height, width = image.shape[:2]
    grain = np.frombuffer(rng.bytes(width * height), dtype=np.uint8).reshape(height, width)
    np.subtract(image, (grain & mask)[..., None], out=image)


def _fibres(paper: np.ndarray, px_per_mm: float, rng: np.random.Generator) -> None:
    """Short wavy fibres, a little darker or lighter than the paper."""
    height, width = paper.shape[:2]
    area_mm2 = width * height / px_per_mm**2
    count = int(area_mm2 / 300)
    length = px_per_mm * rng.uniform(0.8, 3.0, count)
    start = np.column_stack([rng.uniform(0, width, count), rng.uniform(0, height, count)])
    angle = rng.uniform(0, math.pi, count)
    bend = rng.normal(0, 0.5, count)
    polylines = []
    for k in range(count):
        t = np.linspace(0, 1, 4)[:, None]
        direction = np.array([math.cos(angle[k]), math.sin(angle[k])])
        normal = np.array([-direction[1], direction[0]])
        points = start[k] + t * length[k] * direction + (t * (1 - t)) * bend[k] * length[k] * normal
        polylines.append(points.astype(np.int32))
    half = len(polylines) // 2
    cv2.polylines(paper, polylines[:half], False, (170, 160, 140), 1, cv2.LINE_AA)
    cv2.polylines(paper, polylines[half:], False, (244, 238, 222), 1, cv2.LINE_AA)


def make_table(size: tuple[int, int], px_per_mm: float, rng: np.random.Generator) -> np.ndarray:
    """A dark desk surface for camera shots: mottled, with a grain along one direction."""
    cols, rows, _ = _grid(size, px_per_mm * 0.25)
    shade = np.array(TABLE_SHADES[int(rng.integers(len(TABLE_SHADES)))], dtype=np.float32)
    streaks = _smooth_noise(rng, (rows, cols), 1.0)
    streaks = cv2.GaussianBlur(streaks, (0, 0), sigmaX=8.0, sigmaY=0.6)
    small = shade * (
        1.0 + 0.12 * streaks[..., None] + 0.08 * _smooth_noise(rng, (rows, cols), 4)[..., None]
    )
    table: np.ndarray = cv2.resize(
        np.clip(small, 20, 255).astype(np.uint8), size, interpolation=cv2.INTER_LINEAR
    )
    _grain(table, rng, 15)
    return table


def vignette(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A phone lens's darker corners, on the whole frame."""
    height, width = image.shape[:2]
    y, x = np.ogrid[-1.0:1.0:24j, -1.0:1.0:32j]
    strength = rng.uniform(0.25, 0.45)
    gain = np.clip(1.0 - strength * (x**2 + y**2) / 2, 0, 1) * 255
    gain = cv2.resize(gain.astype(np.uint8), (width, height), interpolation=cv2.INTER_LINEAR)
    result: np.ndarray = cv2.multiply(image, cv2.merge([gain, gain, gain]), scale=1 / 255)
    return result
