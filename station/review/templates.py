"""Book templates from accepted pages: one correction teaches the whole book.

When an operator accepts a page (corrected or not), its entries' cuts become the
book's one template (:mod:`station.processing.imaging.template`); later pages of the
book are registered to it and cut by it with their own evidence (see
:func:`station.processing.imaging.segment.segment`).
"""

from __future__ import annotations

import logging

import numpy as np
from numpy.typing import NDArray

from station.core.layouts import get_profile
from station.core.models import Capture, Entry, Page, utc_now
from station.processing.imaging.segment import learn_template, region_polygon
from station.processing.imaging.template import BookTemplate
from station.store import Store

log = logging.getLogger(__name__)


def teach(
    store: Store, page: Page, capture: Capture, entries: list[Entry], rgb: NDArray[np.uint8]
) -> BookTemplate | None:
    """Keep the cuts of the accepted ``page`` (its live ``entries``, regions on this
    capture) as its book's template; None when the page holds no entry to learn from."""
    outlines = [
        (
            region.page_side,
            np.asarray(
                region_polygon(region.box, region.warp, region.bend, region.shape), np.float64
            ),
        )
        for entry in entries
        for region in entry.regions
        if region.capture_id == capture.id
    ]
    if not outlines:
        return None
    template = learn_template(
        rgb, capture.dpi, get_profile(page.profile), outlines, capture.id, utc_now()
    )
    store.save_template(page.book, template.to_dict())
    log.info(
        "book %s: template of %d entries (%s) from %s",
        page.book, len(template.regions), template.kind, capture.id,
    )  # fmt: skip
    return template
