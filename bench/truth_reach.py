"""How close to the ground truth's own lines a cut must be to score under each rule.

Run: ``nice .venv/bin/python bench/truth_reach.py`` (about a minute). For every image
of ``../shared/real-pages/`` (never copied into the repository; origin, licences and
attribution in its ``SOURCES.md`` and in ``bench/real_pages.py``), the true entries
are made to tile as a product's cuts do: on each page side, the boundary shared by two
neighbours is put, column by column, halfway between the lower edge of the one and the
upper edge of the other (the polygons overlap or leave a sliver). Every shared
boundary is then moved by the same number of pixels, up or down, and the tiled truth
is scored by the rules of :mod:`station.processing.imaging.truthscore`: exact by
polygon (the acceptance) and exact by writing. It prints the counts per image and in
all, per shift; it judges nothing.

What it shows: how far from the line the annotators drew a cut may fall and still
count, against the height of the blank paper between two lines of writing (35-120 px
on these pages), in which nothing on the page says where that line goes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from station.processing.imaging.truthscore import EXACT_OTHER, EXACT_OWN

sys.path.insert(0, str(Path(__file__).resolve().parent))
from real_pages import PAGES, chosen, page_images

#: Masks are drawn at 1/FACTOR of the stored pixels (shifts stay in stored pixels).
FACTOR = 2
SHIFTS = (-16, -12, -8, -4, 0, 4, 8, 12, 16)
Mask = NDArray[np.bool_]


def _mask(polygons: list[list[list[float]]], shape: tuple[int, int]) -> Mask:
    canvas = np.zeros(shape, np.uint8)
    for polygon in polygons:
        points = np.round(np.asarray(polygon, np.float64) / FACTOR).astype(np.int32)
        cv2.fillPoly(canvas, [points.reshape(-1, 1, 2)], 1)
    return canvas.astype(np.bool_)


def _tiled(entries: list[dict], masks: list[Mask], shift: float) -> list[Mask]:
    """Each entry's region once neighbours on one page side tile, every shared
    boundary moved down by ``shift`` stored pixels."""
    height = masks[0].shape[0]
    rows = np.arange(height)[:, None]
    tiled = [m.copy() for m in masks]
    for index in range(len(entries) - 1):
        if entries[index]["page"] != entries[index + 1]["page"]:
            continue
        upper, lower = masks[index], masks[index + 1]
        shared = upper.any(axis=0) & lower.any(axis=0)
        last = height - 1 - np.argmax(upper[::-1], axis=0)
        first = np.argmax(lower, axis=0)
        cut = np.where(shared, (last + first) / 2 + shift / FACTOR, -1.0)
        below = (rows > cut[None, :]) & shared[None, :]
        above = (rows <= cut[None, :]) & shared[None, :]
        tiled[index] = (tiled[index] & ~below) | (lower & above)
        tiled[index + 1] = (tiled[index + 1] & ~above) | (upper & below)
    return tiled


def _exact(regions: list[Mask], truths: list[Mask]) -> int:
    """True entries whose own region holds ``EXACT_OWN`` of them and under
    ``EXACT_OTHER`` of every other (each entry is judged by its own tiled region)."""
    areas = [max(float(t.sum()), 1.0) for t in truths]
    exact = 0
    for entry, region in enumerate(regions):
        shares = [float((region & t).sum()) / a for t, a in zip(truths, areas, strict=True)]
        others = shares[:entry] + shares[entry + 1 :]
        if shares[entry] >= EXACT_OWN and max(others, default=0.0) < EXACT_OTHER:
            exact += 1
    return exact


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, default=PAGES, help="folder of images + JSON")
    parser.add_argument("--only", nargs="*", default=[], help="image names to run (default all)")
    args = parser.parse_args()
    every = page_images(args.pages)
    if every is None:
        return 2
    totals = {rule: np.zeros(len(SHIFTS), int) for rule in ("polygon", "writing")}
    count = 0
    print(f"{'image':32} {'rule':8} {'true':>4}  " + " ".join(f"{s:+4d}" for s in SHIFTS))
    for image in chosen(every, args.only):
        truth = json.loads(image.with_suffix(".json").read_text(encoding="utf-8"))
        with Image.open(image) as stored:  # stored pixels, as the truth's grid
            width, height = stored.size
        shape = (height // FACTOR + 1, width // FACTOR + 1)
        entries = truth["entries"]
        polygons = [_mask([e["polygon"]], shape) for e in entries]
        writing = [
            _mask(e["line_polygons"], shape) if e.get("line_polygons") else polygons[i]
            for i, e in enumerate(entries)
        ]
        count += len(entries)
        for rule, truths in (("polygon", polygons), ("writing", writing)):
            row = [_exact(_tiled(entries, polygons, s), truths) for s in SHIFTS]
            totals[rule] += row
            print(f"{image.name[:32]:32} {rule:8} {len(entries):4d}  "
                  + " ".join(f"{v:4d}" for v in row))  # fmt: skip
    print(f"\nshift of every shared boundary (stored pixels, + is down): {list(SHIFTS)}")
    for rule, row in totals.items():
        print(f"exact by {rule:8} of {count}: " + " ".join(f"{v:4d}" for v in row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
