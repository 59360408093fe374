"""Cutting a page by its book's template (:mod:`station.processing.imaging.template`).

Called by :func:`station.processing.imaging.segment.segment` for each page side once
the page registered to the template; each function answers with the side's regions,
None when the template teaches nothing there (the page's own evidence cuts it), or
the reason the page's own evidence refuses it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from station.processing.imaging import boundaries
from station.processing.imaging import entries as keyed
from station.processing.imaging import geometry as geo
from station.processing.imaging import normalise as nm
from station.processing.imaging import template as tp
from station.processing.imaging.regions import ProposedRegion, keyed_regions, region_polygon

#: The page was cut by its book's template.
TEMPLATE_FLAG = "template_used"


class PageEvidence(Protocol):
    """What a page offers to be cut by: its normalisation, ink and writing (border
    blanked) and the capture's pixels."""

    norm: nm.Normalised
    ink: nm.Gray
    rgb: NDArray[np.uint8]

    @property
    def writing(self) -> nm.Gray: ...

    def writing_of(self, side: int) -> keyed.Writing:
        """A page side's writing as entries are sought in it."""
        ...


@dataclass(frozen=True)
class Registered:
    """A book template and where it lies on this page (None: refused)."""

    template: tp.BookTemplate
    registration: tp.Registration | None


def templated(
    page: PageEvidence,
    registered: Registered,
    dpi: int,
    side: int,
    columns: tuple[int, int],
    ruled: Sequence[ProposedRegion],
) -> tuple[list[ProposedRegion], bool] | str | None:
    """One side's entries cut by the book's template: None when it teaches nothing
    here (see :func:`fixed_cuts`, :func:`row_cuts`); the reason when the page's own
    rules contradict it."""
    template, fit = registered.template, registered.registration
    if fit is None:
        return None
    if template.kind == tp.FIXED:
        return fixed_cuts(page, template, fit, dpi, side, ruled)
    return row_cuts(page, template, fit, dpi, side, columns, ruled)


def fixed_cuts(
    page: PageEvidence,
    template: tp.BookTemplate,
    fit: tp.Registration,
    dpi: int,
    side: int,
    ruled: Sequence[ProposedRegion],
) -> tuple[list[ProposedRegion], bool] | str | None:
    """A printed form: the confirmed boxes, each edge on the page's own rule when one
    is near; refused when the page rules a boundary no confirmed box has (another
    form) or when its rules confirm under half the boxes' edges (nothing of the page
    says the form is there); None on a side the template holds no box on."""
    if side not in template.sides():
        return None
    norm, work_dpi = page.norm, dpi * page.norm.work_scale
    left, _, right, _ = template.span(side)
    quads = [fit.to_page(r.quad) for r in template.regions if r.side == side]
    edges = sorted({round(float(v), 3) for q in quads for v in (q[0, 1], q[2, 1])})
    stray = stray_rules(norm, ruled, edges, fit)
    if stray:
        return f"the page rules {stray} boundary(ies) between entries that the template has not"
    snapped = tp.snap_rows(fit, page.ink, edges, work_dpi, fit.x(left), fit.x(right))
    confirmed = sum(row is not None for row in snapped)
    if confirmed * 2 < len(edges):
        return f"the page's own rules confirm {confirmed} of the template's {len(edges)} box edges"
    moved = {edge: edge if row is None else row for edge, row in zip(edges, snapped, strict=True)}
    confidence = round(0.6 + 0.35 * fit.score, 3)
    regions = []
    for quad in quads:
        y0, y1 = moved[round(float(quad[0, 1]), 3)], moved[round(float(quad[2, 1]), 3)]
        outline = np.array([[quad[0, 0], y0], [quad[1, 0], y0], [quad[1, 0], y1], [quad[0, 0], y1]])
        box, warp = tp.capture_quad(norm, outline)
        regions.append(ProposedRegion(box, side, confidence, warp, (TEMPLATE_FLAG,)))
    return regions, False


def row_cuts(
    page: PageEvidence,
    template: tp.BookTemplate,
    fit: tp.Registration,
    dpi: int,
    side: int,
    columns: tuple[int, int],
    ruled: Sequence[ProposedRegion],
) -> tuple[list[ProposedRegion], bool] | None:
    """A handwritten register: the page's own start marks; where they show no entries
    on their own (headings of several rows above the first entry, a key column lost
    among other columns), sought again below the template's first entry's top (the
    headings above it are no entries, however many rows they take) and within its
    table span widened by 0.3 inch. Each entry spans at least the template's width.
    A side of a spread the template has no entry on (a blank page confirmed) takes
    the other side's top and its own width. None when the page rules its entries
    (its own rules cut it) or no marks are found."""
    sides = template.sides()
    if len(ruled) >= 2 or not sides:
        return None
    norm, work_dpi = page.norm, dpi * page.norm.work_scale
    taught = side if side in sides else sides[0]
    left, top, right, _ = template.span(taught)
    found = keyed.find_entries(
        page.ink, page.writing, columns[0], columns[1], work_dpi, writing=page.writing_of(side)
    )
    if found is None:
        x0, x1 = columns
        if side in sides:
            reach = 0.3 * work_dpi
            x0, x1 = max(x0, round(fit.x(left) - reach)), min(x1, round(fit.x(right) + reach))
        first = max(0, round(fit.y(top) - 0.1 * work_dpi))
        ink, writing = page.ink.copy(), page.writing.copy()
        ink[:first], writing[:first] = 0, 255  # the headings above the template's first entry
        found = keyed.find_entries(
            ink, writing, x0, x1, work_dpi,
            writing=keyed.writing_of(ink, writing, x0, x1, work_dpi, red=norm.flat),
        )  # fmt: skip
    if found is None:
        return None
    back = geo.invert(norm.matrix)
    found = boundaries.refine(page.rgb, back, found, norm.work_scale, dpi, norm.bend)
    if side in sides:
        pad = 0.15 * work_dpi
        wide = (min(found.left - pad, fit.x(left)), max(found.right + pad, fit.x(right)))
        found = replace(found, left=max(columns[0], wide[0]), right=min(columns[1], wide[1]))
    regions = keyed_regions(norm, found, columns, dpi, side, pad=0.0 if side in sides else None)
    return [replace(r, flags=(*r.flags, TEMPLATE_FLAG)) for r in regions], True


def stray_rules(
    norm: nm.Normalised,
    ruled: Sequence[ProposedRegion],
    edges: Sequence[float],
    fit: tp.Registration,
) -> int:
    """How many of the page's own inner rules (from its ruled bands) lie near no edge
    of the template's boxes (normalised rows ``edges``)."""
    reach = 2 * tp.SNAP_SHARE * fit.size[1]
    rows = []
    for region in ruled[1:]:
        top = geo.apply(norm.matrix, region_polygon(region.box, region.warp))[:2, 1].mean()
        rows.append(float(top))
    return sum(all(abs(row - edge) > reach for edge in edges) for row in rows)
