"""What real pages add outside their table: a note in the margin, a torn corner.

Both are off unless the spec asks (``margin_note``, ``torn_corner_mm``) and draw from
random streams of their own, so every other page keeps its pixels.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from station.capture.drivers.simulated.render.form import Canvas, PagePlan
from station.capture.drivers.simulated.render.ink import make_pen, merge, write

#: Ink of a note added later in the margin (a darker, bluer pen than the entries').
NOTE_RGB = (30, 38, 110)
NOTE_LINES = ("đã cải chính", "theo QĐ số", "12/QĐ-UB")


def margin_note(canvas: Canvas, pages: list[PagePlan], seed: int) -> tuple[int, int, int, int]:
    """Handwrite a three-line note in the outer margin of the last page, beside the
    middle of its table, in no entry: its ink goes on the sheet and in the ink truth.
    Returns the note's box on the flat sheet."""
    rng = np.random.default_rng([seed, 0x0A7E])
    mm, page = canvas.mm, pages[-1]
    pen = make_pen(rng, mm(2.6), thin=False)
    coverage = Image.new("L", canvas.content.size, 0)
    left = page.frame.right + mm(2.5)
    width = page.rect.right - left - mm(6.0)  # clear of the paper's edge
    top = (page.frame.top + page.frame.bottom) / 2
    boxes = []
    for line, text in enumerate(NOTE_LINES):
        box = write(coverage, (left, top + line * mm(5.5)), text, pen, rng, width)
        if box is not None:
            boxes.append(box)
    merge(canvas.ink, coverage, (0, 0, *canvas.content.size))
    canvas.content.paste(NOTE_RGB, (0, 0, *canvas.content.size), coverage)
    xs = [b[0] for b in boxes] + [b[2] for b in boxes]
    ys = [b[1] for b in boxes] + [b[3] for b in boxes]
    return min(xs), min(ys), max(xs), max(ys)


def tear_mask(size: tuple[int, int], px_per_mm: float, torn_mm: float, seed: int) -> np.ndarray:
    """255 where the sheet's top-right corner is torn away (a ragged triangle whose
    legs are about ``torn_mm`` long), on the flat sheet of ``size`` (width, height)."""
    rng = np.random.default_rng([seed, 0x7EA2])
    width = size[0]
    leg = torn_mm * px_per_mm
    steps = 12
    edge = [
        (width - leg * (1 - t) + rng.normal(0, leg * 0.03), leg * t + rng.normal(0, leg * 0.03))
        for t in np.linspace(0.0, 1.0, steps)
    ]
    points = np.array([(width + 5, -5), *edge, (width + 5, leg)], np.float64)
    mask = np.zeros((size[1], size[0]), np.uint8)
    cv2.fillPoly(mask, [np.round(points).astype(np.int32)], 255)
    return mask
