"""The page path: the steps a page's entries go through, shared by every way in.

Captures (:mod:`station.processing.pipeline`), review (accepting or re-cutting a page)
and ``station process`` (:mod:`station.processing.batch.run`) all turn a proposed region
into a model region, cut the entry's pixels and make its finished PDF here, so the
two paths cannot drift apart again.

The finished PDF is made in one place, :func:`entry_pdf`: the encoder's budget is the
user's budget minus room for the metadata record, and the file is measured again once
the record is in. A file that still does not fit is flagged ``over_budget`` (and that
flag goes into the record it carries), never silently written over budget.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from station.core.models import OVER_BUDGET, Entry, EntryVersion, Region
from station.processing.imaging import geometry as geo
from station.processing.imaging.load import Decoded, StoredGrid
from station.processing.imaging.segment import Box, ProposedRegion, crop_region, region_polygon
from station.processing.numbering import NUMBER_FLAG
from station.processing.pdf.encode import EncodeResult, Pixels, encode_entry
from station.processing.pdf.metadata import apply_metadata, metadata_reserve
from station.store import Store
from station.store.publish import PublishPlan

log = logging.getLogger(__name__)

#: Flags that keep a page's entries in review instead of publishing them.
REVIEW_FLAGS = frozenset(
    {
        "count_mismatch",
        "low_confidence",
        "page_outline_uncertain",
        "no_frame",
        "continued_from_previous",
        "orientation_uncertain",
        NUMBER_FLAG,  # numbered while an earlier page waited
        "ink_below_entries",
        "ink_outside_entries",
        "gutter_uncertain",
        "blank_page",
    }
)
#: The encoding the metadata reserve is measured with (the longest common name).
DRAFT_ENCODING = "composite_lowbg"

#: Plans the version a finished PDF will be (entry with its flags, encoding) -> plan.
PlanFor = Callable[[Entry, str], PublishPlan]


@dataclass(frozen=True)
class FinishedPdf:
    """An entry's finished PDF (record included) and the plan it was made for."""

    data: bytes
    encoding: str
    plan: PublishPlan


def make_region(
    capture_id: str, proposed: ProposedRegion, angle: float, first_page: int, source: Decoded
) -> Region:
    """The one place a proposed region becomes a model :class:`Region`.

    ``source`` is the decoded capture the region was found on; the region keeps its
    outline in that file's stored pixel grid (see :func:`source_polygon`).
    """
    return Region(
        capture_id=capture_id,
        box=proposed.box,
        page_side=proposed.page_side,
        page_number=first_page + proposed.page_side,
        confidence=proposed.confidence,
        angle=angle,
        warp=None if proposed.warp is None else list(proposed.warp),
        source_polygon=source_polygon(
            proposed.box, proposed.warp, source, proposed.bend, proposed.shape
        ),
        source_orientation=source.orientation,
        bend=None if proposed.bend is None else list(proposed.bend),
        shape=None if proposed.shape is None else list(proposed.shape),
    )


def source_polygon(
    box: Box,
    warp: Sequence[float] | None,
    source: Decoded | StoredGrid,
    bend: Sequence[float] | None = None,
    shape: Sequence[float] | None = None,
) -> list[list[float]]:
    """The outline of ``box`` (TL, TR, BR, BL) in the stored file's pixel grid.

    Back through the region's page-frame homography to the decoded capture, then back
    through the EXIF orientation the decoder applied. Both are projective, so the four
    corners are the exact outline; rounded to 0.1 px, far below any cut's precision.
    On a dewarped page (``bend``: the region's grid) the outline has the points along
    its bent edges, clockwise from the top-left corner.
    """
    upright = region_polygon(box, warp, bend, shape)
    stored = geo.apply(source.to_stored(), upright)
    return [[round(float(x), 1), round(float(y), 1)] for x, y in stored]


def cut_entry(rgb: NDArray[np.uint8], region: Region) -> NDArray[np.uint8]:
    """The one place an entry's pixels are cut out of its capture (an RGB array: the
    encoder takes it as it is, where a Pillow image would be a second, larger copy)."""
    return crop_region(rgb, region.box, region.angle, region.warp, region.bend, region.shape)


def entry_pdf(
    image: Pixels,
    dpi: int,
    budget_bytes: int,
    entry: Entry,
    plan_for: PlanFor,
    *,
    info: Mapping[str, str] | None = None,
) -> FinishedPdf:
    """Encode ``image`` (the entry's own pixels) into its finished PDF within
    ``budget_bytes``, metadata included.

    ``entry.flags`` gains the encoder's flags, and ``over_budget`` when even the
    smallest rung does not fit; ``plan_for`` is asked again whenever the flags change,
    so the record inside the file always says what the file is.
    """
    reserve = draft_reserve(entry, plan_for)
    encoded = encode_entry(image, dpi, budget_bytes - reserve, info=info, entry=entry.number)
    return finish_encoded(encoded, budget_bytes, entry, plan_for)


def draft_reserve(entry: Entry, plan_for: PlanFor) -> int:
    """Bytes to leave for the record the finished PDF of ``entry`` will carry."""
    return metadata_reserve(plan_for(entry, DRAFT_ENCODING).record)


def finish_encoded(
    encoded: EncodeResult, budget_bytes: int, entry: Entry, plan_for: PlanFor
) -> FinishedPdf:
    """The finished PDF of an entry encoded within its budget less its draft reserve:
    ``entry.flags`` gain the encoder's flags, then the record is put in."""
    entry.flags += [f for f in encoded.flags if f not in entry.flags]
    return finish_pdf(encoded.data, encoded.encoding, budget_bytes, entry, plan_for)


def finish_pdf(
    pdf: bytes, encoding: str, budget_bytes: int | None, entry: Entry, plan_for: PlanFor
) -> FinishedPdf:
    """Put the planned record into ``pdf``; flag ``over_budget`` if the result is
    larger than ``budget_bytes`` (then plan again, since the record holds the flags).
    ``None``: no budget applies (a file made elsewhere, such as a benchmark's)."""
    while True:
        plan = plan_for(entry, encoding)
        data = apply_metadata(pdf, plan.record)
        if budget_bytes is None or len(data) <= budget_bytes or OVER_BUDGET in entry.flags:
            return FinishedPdf(data, encoding, plan)
        log.info(
            "entry %s: %d bytes with its record, over %d", entry.number, len(data), budget_bytes
        )
        entry.flags.append(OVER_BUDGET)


def publish_pdf(
    store: Store, entry: Entry, pdf: bytes, encoding: str, budget_bytes: int | None = None
) -> EntryVersion:
    """Finish an already encoded ``pdf`` for ``entry`` and publish it in ``store``."""
    finished = finish_pdf(pdf, encoding, budget_bytes, entry, store.plan_publish)
    return store.publish(finished.plan, finished.data)
