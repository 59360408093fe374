"""How well are registers written in faded ink cut, entry by entry?

The issue's independent corpus cut none of its faded pages (8 of 8 whole pages). This
bench renders the simulator's real-like registers (``style="register"``, as
``bench/imaging.py``'s real-like corpus: hand-ruled tables of 10-30 entries, scans
skewed up to 3 degrees, camera shots bent up to 10 mm with a hand half of the time)
whose every entry is written in faded ink (pale colours at 45-80% of their strength,
patchy, a thin pen), each page as a stacked register and as one table across a
spread, scanned and photographed, and segments each capture (``segment``).

Two sets of book seeds: ``tuning`` (the pages looked at while the faded path was
built) and ``held-out`` (only measured). Per capture it prints the regions found
against the entries, and how many entries are cut cleanly by two rules: the
simulator's own (``cutcheck``: 98% of the entry's outline, at most 1% of any
other's) and by ink (the region holds at least 98% of the entry's ink and under 2%
of its amount of other entries' ink; the ink mask is the simulator's). It prints
figures; it does not judge them.

    nice -n 19 .venv/bin/python bench/faded_registers.py [--set tuning|held-out|all]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from station.capture.drivers.simulated.render.page import RenderedPage, RenderSpec, render_page
from station.core.layouts import get_profile
from station.processing.imaging.cutcheck import check_cut
from station.processing.imaging.segment import region_polygon, segment

#: (book seed, page indexes) whose pages are faded (the simulator draws a register's
#: page faded with ``faded_probability`` 0.35, from its seed and index).
SETS = {
    "tuning": ((601, (1,)), (604, (4,)), (606, (6,)), (701, (1,)), (703, (3,)),
               (706, (6,)), (707, (7,))),
    "held-out": ((800, (0,)), (801, (1,)), (802, (2,)), (804, (4,)), (1400, (0,)),
                 (1401, (1,)), (1403, (3,))),
}  # fmt: skip
OWN_INK = 0.98
OTHER_INK = 0.02


@dataclass
class Row:
    name: str
    found: int
    entries: int
    clean: int
    by_ink: int
    seconds: float
    flags: list[str]


def _mask(polygon: NDArray[np.float64], shape: tuple[int, int]) -> NDArray[np.bool_]:
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(polygon).astype(np.int32)], 1)
    return mask.astype(bool)


def measure(page: RenderedPage, name: str) -> Row:
    """Segment ``page`` and score its regions against its truth."""
    rgb = np.asarray(page.image)
    start = time.process_time()
    found = segment(rgb, page.dpi, get_profile(page.profile))
    seconds = time.process_time() - start
    polygons = [np.asarray(e.polygon, np.float64) for e in page.entries]
    ink = np.asarray(page.ink_mask) > 0
    clean = by_ink = 0
    if len(found.regions) == len(polygons):
        for index, region in enumerate(found.regions):
            outline = np.asarray(
                region_polygon(region.box, region.warp, region.bend, region.shape), np.float64
            )
            others = polygons[:index] + polygons[index + 1 :]
            clean += check_cut(outline, polygons[index], others, page.image.size).clean
            inside, truth = _mask(outline, ink.shape), _mask(polygons[index], ink.shape)
            own, other = ink & truth, ink & ~truth
            amount = max(1, int(own.sum()))
            by_ink += bool(
                (own & inside).sum() >= OWN_INK * amount
                and (other & inside).sum() < OTHER_INK * amount
            )
    return Row(name, len(found.regions), len(polygons), clean, by_ink, seconds, found.flags)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=["tuning", "held-out", "all"], default="all")
    args = parser.parse_args()
    names = list(SETS) if args.set == "all" else [args.set]
    for set_name in names:
        print(f"=== {set_name} ===")
        print(f"{'capture':34} {'found':>9} {'clean':>6} {'by ink':>7} {'CPU s':>6}  flags")
        rows = []
        for seed, indexes in SETS[set_name]:
            for index in indexes:
                for profile in ("stacked", "spread-table"):
                    for camera in (False, True):
                        spec = RenderSpec(
                            profile=profile, dpi=300, seed=seed, page_index=index,
                            style="register", skew_max_deg=3.0, camera=camera,
                            faded_probability=0.35, bend_max_mm=10.0 if camera else 0.0,
                            hand_probability=0.5 if camera else 0.0,
                        )  # fmt: skip
                        page = render_page(spec)
                        if not all(e.faded for e in page.entries):
                            print(f"seed {seed} page {index} is not faded", file=sys.stderr)
                            return 2
                        name = f"{seed}/{index} {profile} {'camera' if camera else 'scan'}"
                        row = measure(page, name)
                        rows.append(row)
                        print(
                            f"{row.name:34} {row.found:>4}/{row.entries:<4} {row.clean:>6} "
                            f"{row.by_ink:>7} {row.seconds:>6.1f}  {' '.join(row.flags)}",
                            flush=True,
                        )
        entries = sum(r.entries for r in rows)
        counted = sum(r.found == r.entries for r in rows)
        clean, by_ink = sum(r.clean for r in rows), sum(r.by_ink for r in rows)
        print(
            f"{set_name}: {len(rows)} captures, count right on {counted}; of {entries} "
            f"entries {clean} cut cleanly ({clean / entries:.1%}), {by_ink} by ink "
            f"({by_ink / entries:.1%})\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
