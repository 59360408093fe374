"""Real register pages captured differently: how steady the cuts are.

Run: ``nice -n 19 .venv/bin/python bench/real_variations.py [--only NAME ...]
[--variations NAME ...]``. Each image of ``../shared/real-pages/`` is changed the way
another capture of the same page differs (resolution, a wrong dpi tag, exposure,
focus, a tilt, a tighter crop), written as a JPEG (quality 95) with its ground truth
moved by the same affine map, and scored exactly as ``bench/real_pages.py`` scores it
(``station process`` in a child, :mod:`station.processing.imaging.truthscore`). A
page cut well only as captured is cut well by chance: ``orig`` against the rest says
how much of a figure a new capture of a known kind can count on. It prints, per
variation, the tuning and held-out images apart (the split of ``bench/real_pages.py``;
held-out images are only measured here too), and per image the regions found. It
judges nothing.

The images are never copied into the repository; the variants live in a temporary
folder. Origin and licences: ``../shared/real-pages/SOURCES.md`` (attribution in
``bench/real_pages.py``'s docstring, which applies here unchanged).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from real_pages import PAGES, Result, chosen, measure, page_images

Affine = np.ndarray  # 2 x 3, stored pixels -> variant pixels
Geometry = Callable[[int, int], tuple[Affine, tuple[int, int]]]


@dataclass(frozen=True)
class Variation:
    """How a variant differs: a geometric map (from the stored size to an affine map
    and the variant's size), a tone curve, a blur, and the dpi its file states as a
    share of the original's."""

    geometry: Geometry | None = None
    gamma: float = 1.0
    blur: float = 0.0
    dpi_factor: float | None = None  # None: the geometry's scale (a true tag)


def _scale(factor: float) -> Geometry:
    def geometry(width: int, height: int) -> tuple[Affine, tuple[int, int]]:
        matrix = np.array([[factor, 0, 0], [0, factor, 0]], np.float64)
        return matrix, (round(width * factor), round(height * factor))

    return geometry


def _rotate(degrees: float) -> Geometry:
    def geometry(width: int, height: int) -> tuple[Affine, tuple[int, int]]:
        matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
        return np.asarray(matrix, np.float64), (width, height)

    return geometry


def _crop(left: float, top: float, right: float) -> Geometry:
    def geometry(width: int, height: int) -> tuple[Affine, tuple[int, int]]:
        x0, y0 = round(width * left), round(height * top)
        matrix = np.array([[1, 0, -x0], [0, 1, -y0]], np.float64)
        return matrix, (round(width * (1 - right)) - x0, height - y0)

    return geometry


VARIATIONS = {
    "orig": Variation(),
    "scale-0.7": Variation(_scale(0.7)),
    "scale-1.3": Variation(_scale(1.3)),
    "tag-wrong": Variation(_scale(0.7), dpi_factor=1.0),  # resized, dpi tag kept
    "paler": Variation(gamma=0.6),
    "darker": Variation(gamma=1.6),
    "blur": Variation(blur=1.5),
    "tilt+1.2": Variation(_rotate(1.2)),
    "tilt-0.6": Variation(_rotate(-0.6)),
    "crop-top": Variation(_crop(0.0, 0.12, 0.0)),
    "crop-left": Variation(_crop(0.06, 0.0, 0.0)),
    "crop-right": Variation(_crop(0.0, 0.0, 0.06)),
}


def _moved(points: Any, matrix: Affine) -> list[list[float]]:
    array = np.asarray(points, np.float64).reshape(-1, 2)
    moved = array @ matrix[:, :2].T + matrix[:, 2]
    return [[round(float(x), 1), round(float(y), 1)] for x, y in moved]


def make_variant(image: Path, variation: Variation, folder: Path) -> Path:
    """Write ``image`` changed by ``variation`` into ``folder`` (same file name), with
    its ground truth moved alike; the variant's path."""
    truth = json.loads(image.with_suffix(".json").read_text(encoding="utf-8"))
    with Image.open(image) as stored:  # stored pixels: EXIF orientation not applied
        dpi = stored.info.get("dpi", (0, 0))[0]
        rgb = np.asarray(stored.convert("RGB"))
    height, width = rgb.shape[:2]
    matrix: Affine = np.array([[1, 0, 0], [0, 1, 0]], np.float64)
    if variation.geometry is not None:
        matrix, size = variation.geometry(width, height)
        rgb = np.asarray(
            cv2.warpAffine(
                rgb, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
            )
        )
    if variation.gamma != 1.0:
        curve = np.array([255 * (i / 255) ** variation.gamma for i in range(256)], np.uint8)
        rgb = curve[rgb]
    if variation.blur:
        rgb = np.asarray(cv2.GaussianBlur(rgb, (0, 0), variation.blur))
    factor = variation.dpi_factor
    if factor is None:
        factor = float(np.hypot(matrix[0, 0], matrix[0, 1]))
    out = folder / image.name
    saved = Image.fromarray(np.ascontiguousarray(rgb))
    saved.save(out, quality=95, **({"dpi": (dpi * factor, dpi * factor)} if dpi else {}))
    for entry in truth["entries"]:
        entry["polygon"] = _moved(entry["polygon"], matrix)
        entry["line_polygons"] = [_moved(p, matrix) for p in entry.get("line_polygons", [])]
    for page in truth.get("pages", []):
        page["polygon"] = _moved(page["polygon"], matrix)
    if truth.get("gutter_x") is not None:
        truth["gutter_x"] = _moved([[truth["gutter_x"], height / 2]], matrix)[0][0]
    out.with_suffix(".json").write_text(json.dumps(truth), encoding="utf-8")
    return out


def _cell(result: Result) -> str:
    """Regions found / true entries, ``T`` when the page came out turned wrong, ``L``
    when an entry lost ink."""
    score = result.score
    marks = ("T" if score.orientation_right is False else "") + ("L" if score.lost_entries else "")
    return f"{score.found}/{score.entries}{marks}"


def _row(results: list[Result]) -> dict[str, str]:
    scores = [r.score for r in results]
    true = sum(s.entries for s in scores)
    near = sum(abs(s.found - s.entries) <= max(1, 0.1 * s.entries) for s in scores)
    return {
        "images": str(len(results)),
        "count near": f"{near}/{len(results)}",
        "by writing": f"{sum(s.exact_writing for s in scores)}/{true}",
        "exact": f"{sum(s.exact for s in scores)}/{true}",
        "split lines": f"{sum(s.split_lines for s in scores)}/{sum(s.lines for s in scores)}",
        "split by ink": str(sum(s.split_ink for s in scores)),
        "lost": str(sum(s.lost_entries for s in scores)),
        "silent": str(sum(r.silent_loss for r in results)),
        "orient wrong": str(sum(s.orientation_right is False for s in scores)),
        "over": str(sum(b > 100_000 for r in results for b in r.pdf_bytes)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, default=PAGES, help="folder of images + JSON")
    parser.add_argument("--only", nargs="*", default=[], help="image names to run (default all)")
    parser.add_argument(
        "--variations", nargs="*", default=list(VARIATIONS), choices=list(VARIATIONS),
        help="variations to run (default all)",
    )  # fmt: skip
    args = parser.parse_args()
    every = page_images(args.pages)
    if every is None:
        return 2
    images = chosen(every, args.only)
    started = time.time()
    table: dict[str, list[Result]] = {}
    with tempfile.TemporaryDirectory(prefix="real-variations-") as temp:
        for name in args.variations:
            for image in images:
                folder = Path(temp) / name / image.stem
                folder.mkdir(parents=True)
                variant = make_variant(image, VARIATIONS[name], folder)
                work = folder / "work"
                work.mkdir()
                table.setdefault(name, []).append(measure(variant, work))
    print(f"{'image':32} " + " ".join(f"{n:>10}" for n in table) + "   (found/true, T: turned")
    print(f"{'':32} wrong, L: an entry lost ink)")
    for index, image in enumerate(images):
        cells = [_cell(table[n][index]) for n in table]
        print(f"{image.name[:32]:32} " + " ".join(f"{c:>10}" for c in cells))
    for group in ("tuning", "held-out"):
        rows = {n: _row([r for r in results if r.split == group]) for n, results in table.items()}
        rows = {n: row for n, row in rows.items() if row["images"] != "0"}
        if not rows:
            continue
        names = list(next(iter(rows.values())))
        print(f"\n{group}: " + ", ".join(names[1:]) + " (count near: within 10% or 1)")
        widths = [max(len(k), *(len(r[k]) for r in rows.values())) for k in names]
        print(
            f"{'variation':11}" + "".join(f" {k:>{w}}" for k, w in zip(names, widths, strict=True))
        )
        for name, row in rows.items():
            cells = "".join(f" {row[k]:>{w}}" for k, w in zip(names, widths, strict=True))
            print(f"{name:11}{cells}")
    print(f"\n{len(images)} images x {len(table)} variations from {args.pages}; "
          f"wall time {time.time() - started:.0f} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
