"""Legibility of real material: false marks, ink hue, accents and sizes.

Run: ``nice -n 19 .venv/bin/python bench/legibility.py [--real] [--seeds 0 1 2]``.

Two corpora, each entry encoded by ``encode_entry`` and its PDF rendered by
``pdftoppm`` at the entry's dpi, then compared with its source pixels:

- **simulated**: :mod:`station.capture.drivers.simulated.render.hazards` draws an
  entry of small script (black, and blue ballpoint) over plain paper, a guilloche
  background, show-through of the reverse, a water stain with a tide line, and a page
  stack at its side; the writing's own ink is the truth. Figures per hazard: ink
  recall and accent recall (``legibility.ink_recall``: a truth pixel counts when the
  render is >= 20 levels below its local paper), **false marks** (components of the
  render at least 30 levels below its local paper that lie more than 2 px from any
  truth ink: specks when under 1.5 mm across, bands when 10 mm or longer, mean per
  entry), the ink's hue (median of B - R over the core of the blue writing, of all
  the ink in a black sample, in the source and the render: blue well above 0, black
  near 0; a blue sample's first line is black, as a form's print beside blue writing,
  and ``pr. pdf`` is that line's B - R in the render) and bytes.
- **real** (``--real``): every image of ``../shared/real-pages`` (never copied into
  the repository) goes through ``load_image``, ``segment`` and ``cut_entry`` as in
  ``station process``; there is no pixel truth, so a render pixel at least 30 levels
  below its local paper counts as **amplified** when it is more than 25 levels darker
  than the source's pixel (the faint layer lifts faded writing on purpose, so some
  amplified marks are writing: read the figure with the images); their components
  (after a 3x3 median) are counted as specks and bands as above, and their pixels as
  a share of the entry; **hue** compares the median B - R and R - G of the pixels
  dark in both source and render (>= 40 levels); tuning and held-out images
  (``HELD_OUT`` of ``bench/real_pages.py``) are printed apart.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from station.capture.drivers.simulated.render.hazards import HAZARDS, sample
from station.processing.pdf.encode import encode_entry
from station.processing.pdf.legibility import ink_recall, local_paper

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import render

MARK_STEP = 30  # levels below the local paper that make a render pixel a mark
SPECK_MM = 1.5
BAND_MM = 10.0


@dataclass
class Marks:
    """False or amplified marks of one render."""

    specks: int = 0
    bands: int = 0
    other: int = 0
    pixels: int = 0


def contrast(rgb: np.ndarray, dpi: float) -> np.ndarray:
    """Levels below the local paper (grey), as int16."""
    grey = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    return local_paper(grey, dpi).astype(np.int16) - grey.astype(np.int16)


def classify(false: np.ndarray, dpi: float) -> Marks:
    """Count the components of ``false`` by size."""
    count, _, stats, _ = cv2.connectedComponentsWithStats(false.view(np.uint8), 8)
    px_mm = dpi / 25.4
    marks = Marks()
    for label in range(1, count):
        extent = max(stats[label, cv2.CC_STAT_WIDTH], stats[label, cv2.CC_STAT_HEIGHT]) / px_mm
        if stats[label, cv2.CC_STAT_AREA] < 3:
            continue
        marks.pixels += int(stats[label, cv2.CC_STAT_AREA])
        if extent < SPECK_MM:
            marks.specks += 1
        elif extent >= BAND_MM:
            marks.bands += 1
        else:
            marks.other += 1
    return marks


def _common(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    h, w = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
    return a[:h, :w], b[:h, :w]


def simulated(seeds: list[int]) -> None:
    print(f"{'hazard':13} {'ink':5} {'recall':>7} {'accents':>7} {'specks':>6} {'bands':>5} "
          f"{'other':>5} {'B-R src':>7} {'B-R pdf':>7} {'pr. pdf':>7} {'bytes':>7}  "
          "encoding")  # fmt: skip
    for hazard in HAZARDS:
        for blue, faded in ((False, False), (True, False), (False, True)):
            rows = []
            for seed in seeds:
                s = sample(hazard, seed, blue=blue, faded=faded)
                encoded = encode_entry(s.rgb, s.dpi)
                shown, truth = _common(render(encoded.data, s.dpi), s.ink)
                _, accents = _common(shown, s.accents)
                near = cv2.dilate(truth.view(np.uint8), np.ones((5, 5), np.uint8)) > 0
                false = (contrast(shown, s.dpi) >= MARK_STEP) & ~near
                marks = classify(false, s.dpi)
                coloured = s.blue if blue else s.ink
                core = _common(_core(coloured), truth)[0]
                black = _common(_core(s.ink & ~s.blue), truth)[0]
                src, _ = _common(s.rgb, truth)
                rows.append((
                    ink_recall(shown, truth, s.dpi), ink_recall(shown, accents, s.dpi),
                    marks.specks, marks.bands, marks.other,
                    _blue_excess(src, core), _blue_excess(shown, core), len(encoded.data),
                    encoded.encoding, _blue_excess(shown, black),
                ))  # fmt: skip
            m = [float(np.mean([r[i] for r in rows])) for i in (*range(8), 9)]
            kind = "faded" if faded else "blue" if blue else "black"
            print(f"{hazard:13} {kind:5} {100 * m[0]:6.1f}% {100 * m[1]:6.1f}% {m[2]:6.1f} "
                  f"{m[3]:5.1f} {m[4]:5.1f} {m[5]:7.0f} {m[6]:7.0f} {m[8]:7.0f} {m[7]:7.0f}  "
                  f"{','.join(sorted({r[8] for r in rows}))}")  # fmt: skip


def _core(mask: np.ndarray) -> np.ndarray:
    return np.asarray(cv2.erode(mask.view(np.uint8), np.ones((3, 3), np.uint8)) > 0)


def _blue_excess(rgb: np.ndarray, mask: np.ndarray) -> float:
    pixels = rgb[mask].astype(np.int16)
    return float(np.median(pixels[:, 2] - pixels[:, 0])) if len(pixels) else 0.0


def real(pages: Path) -> None:
    # Imported here: the simulated part must run without the real pages' helpers.
    from real_pages import HELD_OUT

    from station.core.layouts import get_profile
    from station.processing.batch.inputs import resolve_dpi
    from station.processing.imaging.load import load_image
    from station.processing.imaging.segment import crop_region, segment

    print(f"\n{'image':32} {'set':8} {'PDFs':>4} {'max B':>6} {'specks':>6} {'bands':>5} "
          f"{'other':>5} {'ampl.px%':>8} {'B-R src':>7} {'B-R pdf':>7} "
          f"{'R-G src':>7} {'R-G pdf':>7}")  # fmt: skip
    groups: dict[str, list[tuple[float, ...]]] = {"tuning": [], "held-out": []}
    for image in sorted(pages.glob("*.jpg")):
        import json

        profile = get_profile(json.loads(image.with_suffix(".json").read_text())["profile"])
        decoded = load_image(image, image.name)
        rgb = decoded.rgb
        dpi, _ = resolve_dpi(decoded.dpi, rgb.shape[1], profile)
        found = segment(rgb, dpi, profile)
        figures = []
        for region in found.regions:
            cut = crop_region(rgb, region.box, found.angle, region.warp)
            encoded = encode_entry(cut, dpi, 97_000)
            shown, src = _common(render(encoded.data, dpi), cut)
            src_c, shown_c = contrast(src, dpi), contrast(shown, dpi)
            amplified = (shown_c >= MARK_STEP) & (shown_c - np.maximum(src_c, 0) > 25)
            marks = classify(_median_filter(amplified), dpi)
            both = (src_c >= 40) & (shown_c >= 40)
            figures.append((
                len(encoded.data), marks.specks, marks.bands, marks.other,
                100 * marks.pixels / amplified.size,
                _blue_excess(src, both), _blue_excess(shown, both),
                _red_excess(src, both), _red_excess(shown, both),
            ))  # fmt: skip
        split = "held-out" if image.name in HELD_OUT else "tuning"
        groups[split] += figures
        _print_row(image.stem, split, figures)
    for split, figures in groups.items():
        _print_row(split.upper(), split, figures)


def _median_filter(mask: np.ndarray) -> np.ndarray:
    """Drops single-pixel differences from a rendering's resampling."""
    return cv2.medianBlur(mask.view(np.uint8) * np.uint8(255), 3) > 0


def _red_excess(rgb: np.ndarray, mask: np.ndarray) -> float:
    pixels = rgb[mask].astype(np.int16)
    return float(np.median(pixels[:, 0] - pixels[:, 1])) if len(pixels) else 0.0


def _print_row(name: str, split: str, figures: list[tuple[float, ...]]) -> None:
    if not figures:
        return
    total = [float(np.sum([f[i] for f in figures])) for i in range(4)]
    mean = [float(np.mean([f[i] for f in figures])) for i in range(4, 9)]
    print(f"{name[:32]:32} {split:8} {len(figures):>4} {max(f[0] for f in figures):>6.0f} "
          f"{total[1]:>6.0f} {total[2]:>5.0f} {total[3]:>5.0f} {mean[0]:>8.2f} "
          f"{mean[1]:>7.0f} {mean[2]:>7.0f} {mean[3]:>7.0f} {mean[4]:>7.0f}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    parser.add_argument("--real", action="store_true", help="also the real pages")
    parser.add_argument("--no-sim", action="store_true", help="skip the simulated entries")
    parser.add_argument(
        "--pages", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "real-pages"
    )
    args = parser.parse_args()
    if not args.no_sim:
        simulated(args.seeds)
    if args.real:
        real(args.pages)
    return 0


if __name__ == "__main__":
    sys.exit(main())
