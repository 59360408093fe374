"""Fonts, handwriting, signatures and the red commune stamp of the simulated ledgers.

Everything here draws coverage (0-255 "L" images) rather than colour: the caller
decides the ink colour and how faded it is, and the same coverage becomes the
ground-truth ink mask. Only the four faces of Debian's ``fonts-dejavu-core`` are
used (Sans, Sans Bold, Serif, Serif Bold), so the appliance needs no extra package;
slant and jitter are made here instead of taken from an italic face.
"""

from __future__ import annotations

import functools
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFont

from station.core.errors import StationError

log = logging.getLogger(__name__)

FONT_PACKAGE = "fonts-dejavu-core"
#: Where Debian, Arch and Fedora put DejaVu; LEDGER_STATION_FONT_DIR comes first so a
#: technician can point at a folder of copied fonts.
FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/TTF",
    "/usr/share/fonts/dejavu-sans-fonts",
    "/usr/share/fonts/dejavu-serif-fonts",
    "/usr/local/share/fonts",
)
SANS, SANS_BOLD = "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"
SERIF, SERIF_BOLD = "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf"


def font_dirs() -> list[Path]:
    """Folders searched for fonts, the override first."""
    override = os.environ.get("LEDGER_STATION_FONT_DIR")
    return [Path(d) for d in ((override,) if override else ()) + FONT_DIRS]


@functools.cache
def find_font(name: str) -> Path:
    """The path of font file ``name``; raises StationError naming the Debian package."""
    dirs = font_dirs()
    for folder in dirs:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    raise StationError(
        "fonts.missing", font=name, dirs=", ".join(map(str, dirs)), package=FONT_PACKAGE
    )


@functools.lru_cache(maxsize=512)
def load_font(name: str, size: int) -> ImageFont.FreeTypeFont:
    """The font ``name`` at ``size`` pixels (cached: FreeType loading costs ~1 ms)."""
    return ImageFont.truetype(str(find_font(name)), max(4, size))


@dataclass(frozen=True)
class Pen:
    """One writer's hand: face, size, slant and how unsteady the strokes are."""

    font: str
    size: int  # pixels, the nominal em size
    slant: float  # horizontal shear per pixel of height (tan of the slant angle)
    jitter: float  # pixels of random glyph displacement
    wobble: float  # pixels of slow baseline waviness
    thin: bool = False  # faded pens leave thinner strokes


def make_pen(rng: np.random.Generator, size: float, thin: bool) -> Pen:
    """A random writer for one entry."""
    return Pen(
        font=SANS if rng.random() < 0.6 else SERIF,
        size=max(6, round(size * rng.uniform(0.92, 1.08))),
        slant=float(rng.uniform(0.12, 0.32)),
        jitter=size * float(rng.uniform(0.02, 0.05)),
        wobble=size * float(rng.uniform(0.03, 0.08)),
        thin=thin,
    )


def _glyph_font(pen: Pen, size: int, rng: np.random.Generator) -> ImageFont.FreeTypeFont:
    # Sizes move in steps of 2 px so the font cache stays small.
    step = 2 * round(size * rng.normal(1.0, 0.04) / 2)
    return load_font(pen.font, max(6, step))


def _write_line(text: str, pen: Pen, size: int, rng: np.random.Generator) -> Image.Image:
    """Coverage of ``text`` on a tight canvas, baseline at 1.3 em, before slanting.

    Each glyph is drawn on its own and bent (turned, stretched) a little, the baseline
    waves and drifts, and the strokes are thickened like a ballpoint's, so the result
    does not read as a clean font.
    """
    base = load_font(pen.font, size)
    line = Image.new("L", (int(base.getlength(text) * 1.25 + size * 2), int(size * 1.9)), 0)
    x, baseline = size * 0.3, size * 1.3
    phase, period = rng.uniform(0, 2 * math.pi), size * rng.uniform(3.0, 6.0)
    drift = rng.normal(0, 0.012)
    for char in text:
        font = _glyph_font(pen, size, rng)
        advance = font.getlength(char) * rng.uniform(0.94, 1.1)
        if not char.isspace():
            y = baseline + pen.wobble * math.sin(phase + x / period) + drift * x
            y += rng.normal(0, pen.jitter)
            glyph, origin = _glyph(char, font, rng)
            left, top = int(x - origin[0]), int(y - origin[1])
            merge(line, glyph, (left, top, left + glyph.width, top + glyph.height))
        x += advance
    return _ballpoint(line, size, pen.thin)


def _glyph(
    char: str, font: ImageFont.FreeTypeFont, rng: np.random.Generator
) -> tuple[Image.Image, tuple[float, float]]:
    """One letter, turned and stretched at random about its baseline origin."""
    size = int(font.size)
    cell = int(size * 1.9)
    origin = (size * 0.35, size * 1.35)
    glyph = Image.new("L", (cell, cell), 0)
    ImageDraw.Draw(glyph).text(origin, char, font=font, fill=255, anchor="ls")
    turn = math.radians(rng.normal(0, 3.0))
    sx, sy = rng.uniform(0.88, 1.12), rng.uniform(0.92, 1.08)
    forward = np.array([[math.cos(turn), -math.sin(turn)], [math.sin(turn), math.cos(turn)]])
    inverse = np.linalg.inv(forward @ np.diag([sx, sy]))
    ox, oy = origin
    shift = np.array([ox, oy]) - inverse @ np.array([ox, oy])
    coeffs = (inverse[0, 0], inverse[0, 1], shift[0], inverse[1, 0], inverse[1, 1], shift[1])
    bent = glyph.transform(glyph.size, Image.Transform.AFFINE, coeffs, Image.Resampling.BILINEAR)
    return bent, origin


def _ballpoint(line: Image.Image, size: int, thin: bool) -> Image.Image:
    """Even out the font's thick and thin strokes into a pen's round line."""
    radius = round(size * 0.025)
    if thin or radius < 1:
        return line
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return Image.fromarray(cv2.dilate(np.asarray(line), kernel), "L")


def _slant(line: Image.Image, slant: float, baseline: float) -> Image.Image:
    """Shear so strokes lean right about the baseline."""
    extra = int(slant * line.height) + 1
    wide = Image.new("L", (line.width + extra, line.height), 0)
    wide.paste(line, (extra, 0))
    # Output (x, y) samples input (x + slant * (baseline - y) ... ) leaning tops right.
    coeffs = (1.0, slant, -slant * baseline, 0.0, 1.0, 0.0)
    return wide.transform(wide.size, Image.Transform.AFFINE, coeffs, Image.Resampling.BILINEAR)


def _thin(line: Image.Image) -> Image.Image:
    # Raising the threshold of the anti-aliased edge eats about half a pixel per side.
    return line.point([min(255, max(0, (v - 110) * 2)) for v in range(256)])


def write(
    ink: Image.Image,
    origin: tuple[float, float],
    text: str,
    pen: Pen,
    rng: np.random.Generator,
    max_width: float,
) -> tuple[int, int, int, int] | None:
    """Handwrite ``text`` with its baseline starting at ``origin`` onto coverage ``ink``.

    The writing is squeezed to ``max_width`` (as a clerk writes smaller near the edge).
    Returns the pixel box touched, or None for empty text.
    """
    if not text.strip():
        return None
    size, squeeze = pen.size, 1.0
    natural = load_font(pen.font, size).getlength(text) * 1.08
    if natural > max_width > 0:
        # Clerks first write narrower, then smaller, when a line runs short of room.
        squeeze = max(0.6, max_width / natural)
        size = max(6, int(size * min(1.0, max_width / natural / squeeze)))
    line = _write_line(text, pen, size, rng)
    if squeeze < 1.0:
        line = line.resize(
            (max(1, int(line.width * squeeze)), line.height), Image.Resampling.BILINEAR
        )
    line = _slant(line, pen.slant, size * 1.3)
    if pen.thin:
        line = _thin(line)
    left = int(origin[0] - size * 0.3 - int(pen.slant * line.height))
    top = int(origin[1] - size * 1.3)
    box = (left, top, left + line.width, top + line.height)
    merge(ink, line, box)
    return box


def merge(layer: Image.Image, piece: Image.Image, box: tuple[int, int, int, int]) -> None:
    """Max-combine ``piece`` into ``layer`` at ``box`` (clipped to the layer)."""
    left, top = max(0, box[0]), max(0, box[1])
    right, bottom = min(layer.width, box[2]), min(layer.height, box[3])
    if right <= left or bottom <= top:
        return
    part = piece.crop((left - box[0], top - box[1], right - box[0], bottom - box[1]))
    region = (left, top, right, bottom)
    layer.paste(ImageChops.lighter(layer.crop(region), part), region)


def signature(
    ink: Image.Image, box: tuple[float, float, float, float], pen: Pen, rng: np.random.Generator
) -> None:
    """A looping scribble with an underline flourish inside ``box``."""
    left, top, right, bottom = box
    t = np.linspace(0.0, 1.0, 60)
    loops = rng.uniform(3, 6)
    x = left + (right - left) * (t + 0.08 * np.sin(2 * math.pi * loops * t))
    height = (bottom - top) * 0.5
    y = top + height + height * 0.8 * np.sin(2 * math.pi * loops * t + rng.uniform(0, 6))
    y += height * 0.3 * (t - 0.5)
    width = max(1, round(pen.size * (0.05 if pen.thin else 0.09)))
    draw = ImageDraw.Draw(ink)
    draw.line(list(zip(x.tolist(), y.tolist(), strict=True)), fill=255, width=width, joint="curve")
    flourish = [
        (left + (right - left) * 0.1, bottom - height * 0.2),
        (right, bottom - height * 0.45),
    ]
    draw.line(flourish, fill=255, width=width)


def _star(cx: float, cy: float, radius: float) -> list[tuple[float, float]]:
    points = []
    for k in range(10):
        r = radius if k % 2 == 0 else radius * 0.38
        angle = math.pi * k / 5
        points.append((cx + r * math.sin(angle), cy - r * math.cos(angle)))
    return points


def _ring_text(stamp: Image.Image, text: str, radius: float, rng: np.random.Generator) -> None:
    """Letters around the ring, tops outwards, evenly spread over the full circle."""
    centre = stamp.width / 2
    pitch = 2 * math.pi * radius / len(text)
    font = load_font(SANS_BOLD, int(min(radius * 0.2, pitch * 1.3)))
    cell = int(font.size * 1.6)
    for index, char in enumerate(text):
        if char.isspace():
            continue
        angle = 2 * math.pi * index / len(text) + rng.normal(0, 0.004)
        glyph = Image.new("L", (cell, cell), 0)
        ImageDraw.Draw(glyph).text((cell / 2, cell / 2), char, font=font, fill=255, anchor="mm")
        glyph = glyph.rotate(-math.degrees(angle), resample=Image.Resampling.BILINEAR)
        x = centre + radius * math.sin(angle) - cell / 2
        y = centre - radius * math.cos(angle) - cell / 2
        merge(stamp, glyph, (int(x), int(y), int(x) + cell, int(y) + cell))


def stamp_image(radius: int, text: str, rng: np.random.Generator) -> Image.Image:
    """Coverage of a round commune seal: two rings, text around, a star in the middle.

    Real seals ink unevenly, so coverage is modulated by a smooth random field and a
    one-sided pressure gradient.
    """
    size = 2 * radius + 4
    stamp = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(stamp)
    c = size / 2
    outer = max(2, round(radius * 0.07))
    draw.ellipse((c - radius, c - radius, c + radius, c + radius), outline=255, width=outer)
    inner = radius * 0.68
    draw.ellipse(
        (c - inner, c - inner, c + inner, c + inner), outline=255, width=max(1, outer // 3)
    )
    draw.polygon(_star(c, c, radius * 0.3), fill=255)
    _ring_text(stamp, text, radius * 0.82, rng)
    return _unevenly_inked(stamp, rng)


def _unevenly_inked(stamp: Image.Image, rng: np.random.Generator) -> Image.Image:
    coverage = np.asarray(stamp, dtype=np.float32)
    size = coverage.shape[0]
    blotch = cv2.resize(rng.uniform(0.7, 1.0, (8, 8)).astype(np.float32), (size, size))
    angle = rng.uniform(0, 2 * math.pi)
    ramp = np.linspace(-1.0, 1.0, size, dtype=np.float32)
    gradient = 0.85 + 0.15 * (math.cos(angle) * ramp[None, :] + math.sin(angle) * ramp[:, None])
    speckle = rng.uniform(0.85, 1.0, coverage.shape).astype(np.float32)
    result = coverage * np.clip(blotch * gradient, 0.6, 1.0) * speckle
    return Image.fromarray(result.astype(np.uint8), "L")


def stamp_text(commune: str, district: str) -> str:
    """The words around a commune seal, upper case with diacritics."""
    return f"ỦY BAN NHÂN DÂN XÃ {commune} ★ HUYỆN {district} ★ ".upper()
