"""How well do the cuts of curved pages follow their bent lines, with and without dewarping?

Two measures, each printed with dewarping on (the station as it is) and off
(:data:`station.processing.imaging.dewarp.BEND_IN` set out of reach, i.e. the cuts of
the code before dewarping):

1. simulated bent phone photos (the simulator's register style, camera, bent up to
   ``--bend-mm``; its bend is known exactly): for every cut edge between two entries
   that lies within 0.3 inch of a true entry edge, the *residual bend* is how far the
   cut's edge strays from the true (bent) edge once their mean offset is taken out:
   max over the edge, in pixels and inches. The median and the worst edge of each page
   are printed, with the page's flags;
2. real curved photos (``../shared/real-pages/dewarp_*``; MIT, mzucker/page_dewarp,
   see that folder's ``SOURCES.md``): the proxy is the straightness of the text lines
   *in the cut* (what ends up in the PDF): the lines of each cut are traced by
   :func:`dewarp.line_samples` and fitted by :func:`dewarp.fit_field` as on a page, and
   the bend of that field is reported (inches at the cut's resolution; 0 = straight
   lines). ``dewarp_boston_cooking_b`` is held out: it was never tuned on and is
   printed apart.

    PYTHONPATH=. nice -n 10 .venv/bin/python bench/dewarp.py
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from station.capture.drivers.simulated.render.page import RenderSpec, render_page
from station.core.layouts import get_profile
from station.processing.batch.inputs import resolve_dpi
from station.processing.imaging import dewarp as dw
from station.processing.imaging import normalise as nm
from station.processing.imaging.load import load_rgb
from station.processing.imaging.segment import (
    ProposedRegion,
    Segmentation,
    crop_region,
    region_polygon,
    segment,
)

REAL = Path(__file__).resolve().parents[1] / ".." / "shared" / "real-pages"
TUNING = ("dewarp_boston_cooking_a", "dewarp_linguistics_thesis_b")
HELD_OUT = ("dewarp_boston_cooking_b",)
MATCH_IN = 0.3  # a cut edge this close to a true edge (median, inches) measures it


def bent_spec(seed: int, profile: str, bend_mm: float) -> RenderSpec:
    """A bent register-style phone photo, as ``bench/imaging.py``'s real-like corpus."""
    return RenderSpec(
        profile=profile, dpi=300, seed=seed, page_index=seed % 2, style="register",
        skew_max_deg=3.0, camera=True, faded_probability=0.35, bend_max_mm=bend_mm,
    )  # fmt: skip


def truth_edges(polygon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The top and bottom edges (left to right) of a true entry: 4 corners, or the
    simulator's points along the bent top edge then back along the bottom."""
    half = len(polygon) // 2
    return polygon[:half], polygon[half:][::-1]


def cut_edges(region: ProposedRegion) -> tuple[np.ndarray, np.ndarray]:
    """The top and bottom edges (left to right) of a cut in capture pixels: the first
    and last row of its grid when dewarped, else its corners."""
    if region.bend is not None:
        rows, cols = int(region.bend[0]), int(region.bend[1])
        values = np.asarray(region.bend[2:], np.float64)
        points = np.stack([values[: rows * cols], values[rows * cols :]], axis=-1)
        grid = points.reshape(rows, cols, 2)
        return grid[0], grid[-1]
    corners = region_polygon(region.box, region.warp)
    return corners[[0, 1]], corners[[3, 2]]


def residual(cut: np.ndarray, truth: np.ndarray, dpi: int) -> float | None:
    """How far ``cut`` (an edge) strays from ``truth`` after their mean offset, in
    pixels, over their common x; None when they are not the same edge."""
    low = max(cut[:, 0].min(), truth[:, 0].min())
    high = min(cut[:, 0].max(), truth[:, 0].max())
    if high - low < dpi:
        return None
    xs = np.linspace(low, high, 200)
    difference = np.interp(xs, cut[:, 0], cut[:, 1]) - np.interp(xs, truth[:, 0], truth[:, 1])
    offset = float(np.median(difference))
    if abs(offset) > MATCH_IN * dpi:
        return None
    return float(np.abs(difference - offset).max())


def simulated(found: Segmentation, truth: list[dict[str, Any]], dpi: int) -> list[float]:
    """The residual of every inner cut edge matched to a true edge."""
    true_edges = []
    for entry in truth:
        top, bottom = truth_edges(np.asarray(entry["polygon"], np.float64))
        true_edges += [top, bottom]
    values = []
    for region in found.regions:
        top, bottom = cut_edges(region)
        for edge in (top, bottom):
            found_residuals = [r for t in true_edges if (r := residual(edge, t, dpi)) is not None]
            if found_residuals:
                values.append(min(found_residuals))
    return values


def crop_straightness(rgb: np.ndarray, found: Segmentation, dpi: int) -> list[float]:
    """The bend (inches) of the text lines in each cut, measured like a page's."""
    values = []
    for region in found.regions:
        crop = crop_region(rgb, region.box, found.angle, region.warp, region.bend)
        _, red, factor = nm.downscale(crop, dpi)
        ink = nm.ink_of(nm.flatten(red, dpi * factor))
        work_dpi = dpi * factor
        bend = dw.measure(ink, work_dpi)
        if bend is not None:
            values.append(bend)
    return values


def run(dewarp: bool, args: argparse.Namespace) -> None:
    saved = dw.BEND_IN
    dw.BEND_IN = saved if dewarp else float("inf")
    try:
        print(f"\n=== dewarping {'on' if dewarp else 'off'} ===")
        everything: list[float] = []
        for seed in range(args.seed, args.seed + args.pages):
            profile = "stacked" if seed % 2 == 0 else "spread-stacked"
            page = render_page(bent_spec(seed, profile, args.bend_mm))
            rgb = np.asarray(page.image.convert("RGB"))
            found = segment(rgb, page.dpi, get_profile(profile))
            values = simulated(found, [e.to_dict() for e in page.entries], page.dpi)
            everything += values
            amplitude = abs(page.bend["amplitude"]) if page.bend else 0.0
            if values:
                print(
                    f"sim seed {seed} {profile:15s} bend {amplitude / page.dpi:.2f} in: "
                    f"{len(values)} edges, residual median {np.median(values):.1f} px, "
                    f"worst {max(values):.1f} px ({max(values) / page.dpi:.3f} in) "
                    f"flags {','.join(found.flags)}"
                )
            else:
                print(f"sim seed {seed} {profile}: no cut edge matched; flags {found.flags}")
        if everything:
            print(
                f"simulated: {len(everything)} edges, residual median "
                f"{np.median(everything):.1f} px, 90th pct {np.percentile(everything, 90):.1f} "
                f"px, worst {max(everything):.1f} px ({max(everything) / 300:.3f} in at 300 dpi)"
            )
        for group, names in (("tuning", TUNING), ("held out", HELD_OUT)):
            for name in names:
                path = REAL / f"{name}.jpg"
                if not path.exists():
                    print(f"{name}: absent ({path})")
                    continue
                meta = json.loads(path.with_suffix(".json").read_text())
                profile = get_profile(meta["profile"])
                rgb, stated = load_rgb(path)
                dpi, _ = resolve_dpi(stated, rgb.shape[1], profile)
                found = segment(rgb, dpi, profile)
                values = crop_straightness(rgb, found, dpi)
                said = ", ".join(f"{v:.3f}" for v in values) or "no lines"
                print(f"real ({group}) {name}: flags {found.flags}; line bend in cuts (in): {said}")
    finally:
        dw.BEND_IN = saved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=6, help="simulated bent pages")
    parser.add_argument("--seed", type=int, default=700)
    parser.add_argument("--bend-mm", type=float, default=10.0)
    args = parser.parse_args()
    for dewarp in (False, True):
        run(dewarp, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
