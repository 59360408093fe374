"""Book templates on simulated books: cut by the confirmed first page, or refused.

For each style and profile, books of several seeds: the first page (page index 0) is
confirmed with its ground truth as the book's template (``segment.learn_template``),
and pages 1-3, scanned and photographed, are segmented with and without it. Prints,
per style and profile, the true entries, how many each way are cut cleanly
(``cutcheck``'s rule, counted only on pages whose count is right) and on how many
pages the template was used or refused. It prints figures; it does not judge them.

    nice -n 19 .venv/bin/python bench/templates_sim.py [--seeds 21 22 23]
"""

from __future__ import annotations

import argparse

import numpy as np

from station.capture.drivers.simulated.render.page import RenderedPage, RenderSpec, render_page
from station.core.layouts import get_profile
from station.processing.imaging.cutcheck import check_cut
from station.processing.imaging.segment import (
    TEMPLATE_FLAG,
    Segmentation,
    learn_template,
    region_polygon,
    segment,
)

DPI = 150
BOOKS = (
    ("form", "spread-2"),
    ("form", "page-1"),
    ("form", "stacked"),
    ("register", "stacked"),
    ("register", "spread-table"),
)


def clean(page: RenderedPage, found: Segmentation) -> int:
    """Entries cut cleanly, one region each in reading order (0 on a wrong count)."""
    polygons = [np.asarray(e.polygon) for e in page.entries]
    if len(found.regions) != len(polygons):
        return 0
    return sum(
        check_cut(
            region_polygon(r.box, r.warp, r.bend, r.shape), polygons[i],
            polygons[:i] + polygons[i + 1 :], page.image.size,
        ).clean
        for i, r in enumerate(found.regions)
    )  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[21, 22, 23])
    args = parser.parse_args()
    print(f"{'style':9} {'profile':15} {'pages':>5} {'entries':>7} {'clean own':>9} "
          f"{'with template':>13} {'used':>4} {'refused':>7}")  # fmt: skip
    for style, name in BOOKS:
        profile = get_profile(name)
        entries = own = taught = used = refused = pages = 0
        for seed in args.seeds:
            first = render_page(RenderSpec(profile=name, dpi=DPI, seed=seed, style=style))
            outlines = [(e.page_side, np.asarray(e.polygon, np.float64)) for e in first.entries]
            template = learn_template(np.asarray(first.image), DPI, profile, outlines)
            for index in (1, 2, 3):
                for camera in (False, True):
                    spec = RenderSpec(
                        profile=name, dpi=DPI, seed=seed, page_index=index, style=style,
                        camera=camera,
                    )  # fmt: skip
                    page = render_page(spec)
                    rgb = np.asarray(page.image)
                    with_it = segment(rgb, DPI, profile, template)
                    pages += 1
                    entries += len(page.entries)
                    own += clean(page, segment(rgb, DPI, profile))
                    taught += clean(page, with_it)
                    used += TEMPLATE_FLAG in with_it.flags
                    refused += bool(with_it.template_refused)
        print(f"{style:9} {name:15} {pages:>5} {entries:>7} {own:>9} {taught:>13} "
              f"{used:>4} {refused:>7}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
