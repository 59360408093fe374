"""Synthetic ledger entries with known masks, and PDFs rendered by poppler, for the
encoder's tests.

Every image is drawn here: printed Vietnamese form text (DejaVu Sans), cursive-like
handwriting strokes, a red ring seal and yellowed, noisy paper; the ink and seal masks
are known because they were drawn.
"""

from __future__ import annotations

import io
import math
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
Mask = npt.NDArray[np.bool_]

LABELS = [
    "Họ, chữ đệm, tên:",
    "Ngày, tháng, năm sinh:",
    "Nơi sinh:",
    "Dân tộc:              Quốc tịch:",
    "Họ, chữ đệm, tên người mẹ:",
    "Họ, chữ đệm, tên người cha:",
    "Nơi cư trú:",
    "Người đi khai sinh:",
]


@dataclass
class Synthetic:
    """A drawn entry with its ground-truth masks (True = drawn there)."""

    image: Image.Image
    dpi: int
    printed: Mask
    handwriting: Mask
    stamp: Mask

    @property
    def ink(self) -> Mask:
        return (self.printed | self.handwriting) & ~self.stamp


def _paper(width: int, height: int, rng: np.random.Generator) -> npt.NDArray[np.float32]:
    """Yellowed paper: a slow tone gradient plus grain."""
    base = np.array([238.0, 228.0, 198.0], dtype=np.float32)
    ramp = np.linspace(-8, 6, width, dtype=np.float32)[None, :, None]
    grain = rng.normal(0.0, 4.0, (height, width, 1)).astype(np.float32)
    return np.broadcast_to(base, (height, width, 3)) + ramp + grain


def _print_layer(size: tuple[int, int], dpi: int) -> Image.Image:
    layer = Image.new("L", size, 0)
    draw = ImageDraw.Draw(layer)
    font = ImageFont.truetype(FONT, round(11 * dpi / 72))
    title = ImageFont.truetype(FONT, round(14 * dpi / 72))
    margin, step = dpi // 3, round(size[1] / (len(LABELS) + 3))
    draw.text((margin, margin // 2), "Số: 30   Quyển số: 01/2007   GIẤY KHAI SINH", 255, title)
    for row, label in enumerate(LABELS, start=1):
        y = margin // 2 + row * step + step // 2
        draw.text((margin, y), label, 255, font)
        line_y = y + round(font.size * 1.15)
        draw.line([(margin, line_y), (size[0] - margin, line_y)], 255, max(1, dpi // 150))
    return layer


def _handwriting_layer(size: tuple[int, int], dpi: int, rng: np.random.Generator) -> Image.Image:
    """Cursive-like words: trochoid loops along each form line."""
    layer = Image.new("L", size, 0)
    draw = ImageDraw.Draw(layer)
    width = max(2, round(dpi * 0.014))
    margin, step = dpi // 3, round(size[1] / (len(LABELS) + 3))
    for row in range(1, len(LABELS) + 1):
        x = margin + int(size[0] * 0.38)
        base = margin // 2 + row * step + step // 2 + round(0.06 * dpi)
        while x < size[0] - margin - dpi // 2:
            letters = int(rng.integers(3, 8))
            x = _word(draw, x, base, letters, dpi, width, rng) + round(dpi * 0.12)
    return layer


def _word(
    draw: ImageDraw.ImageDraw,
    x0: int,
    base: int,
    letters: int,
    dpi: int,
    width: int,
    rng: np.random.Generator,
) -> int:
    radius = dpi * 0.035
    advance = dpi * 0.075
    points = []
    for t in np.linspace(0, letters * 2 * math.pi, letters * 24):
        height = 1.0 + 0.9 * math.sin(t * 0.37 + float(rng.random()) * 0.2)
        points.append(
            (
                x0 + advance * t / (2 * math.pi) + radius * math.cos(t),
                base - radius * height * (1 - math.sin(t)),
            )
        )
    draw.line(points, fill=255, width=width, joint="curve")
    return int(points[-1][0])


def _stamp_layer(size: tuple[int, int], dpi: int) -> Image.Image:
    """A round seal: two rings, a star and a band of text."""
    layer = Image.new("L", size, 0)
    draw = ImageDraw.Draw(layer)
    cx, cy, r = size[0] - round(1.3 * dpi), size[1] - round(0.95 * dpi), round(0.75 * dpi)
    ring = max(2, round(dpi * 0.03))
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=255, width=ring)
    inner = round(r * 0.7)
    draw.ellipse([cx - inner, cy - inner, cx + inner, cy + inner], outline=255, width=ring // 2)
    star = [
        (
            cx + inner * 0.5 * math.cos(a * math.pi / 5 - math.pi / 2) * (1 if a % 2 == 0 else 0.4),
            cy + inner * 0.5 * math.sin(a * math.pi / 5 - math.pi / 2) * (1 if a % 2 == 0 else 0.4),
        )
        for a in range(10)
    ]
    draw.polygon(star, fill=255)
    font = ImageFont.truetype(FONT, round(7 * dpi / 72))
    draw.text((cx - inner * 0.8, cy + inner * 0.45), "UBND XÃ", 255, font)
    return layer


def _alpha(layer: Image.Image, blur: float) -> npt.NDArray[np.float32]:
    soft = layer.filter(ImageFilter.GaussianBlur(blur)) if blur else layer
    return np.asarray(soft, dtype=np.float32)[..., None] / 255.0


def make_entry(
    width_in: float = 8.27,
    height_in: float = 3.9,
    dpi: int = 300,
    *,
    faint: bool = False,
    seed: int = 1,
    faint_ink: tuple[int, int, int] = (188, 180, 200),
) -> Synthetic:
    """Draw one entry; ``faint`` fades the handwriting to a pale grey-violet."""
    rng = np.random.default_rng(seed)
    size = (round(width_in * dpi), round(height_in * dpi))
    printed, hand, seal = (
        _print_layer(size, dpi),
        _handwriting_layer(size, dpi, rng),
        _stamp_layer(size, dpi),
    )
    pixels = _paper(size[0], size[1], rng)
    blur = dpi / 450  # scanner optics: about 0.7 px at 300 dpi
    for layer, colour in (
        (printed, (45, 40, 50) if not faint else (95, 90, 100)),
        (hand, (35, 50, 140) if not faint else faint_ink),
    ):
        alpha = _alpha(layer, blur)
        pixels = pixels * (1 - alpha) + np.array(colour, np.float32) * alpha
    seal_alpha = _alpha(seal, blur) * 0.9
    pixels = pixels * (1 - seal_alpha + seal_alpha * np.array([0.86, 0.2, 0.25], np.float32))
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    masks = [np.asarray(layer) > 127 for layer in (printed, hand, seal)]
    return Synthetic(image, dpi, masks[0], masks[1], masks[2])


def poppler_render(path: Path, dpi: int) -> npt.NDArray[np.uint8]:
    """The PDF's only page rendered by pdftoppm at ``dpi`` as an RGB array."""
    png = subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-png", "-singlefile", str(path)],
        capture_output=True,
        check=True,
    ).stdout
    with Image.open(io.BytesIO(png)) as page:
        return np.asarray(page.convert("RGB"))
