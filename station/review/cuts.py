"""The operator's cuts of a page: checking them and matching them to the page's entries.

Pure functions. A cut is a box in the page's view frame (:mod:`station.review.frame`),
an entry number and quality flags, optionally with the ``entry_id`` it edits. Cuts sent
without an id are matched to the page's entries by overlap, so a screen that sends
only boxes still edits entries (a new version) instead of withdrawing and re-creating
them.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from station.core.errors import UsageError
from station.core.models import QUALITY_FLAGS
from station.review.frame import Box, ViewFrame

log = logging.getLogger(__name__)


#: Entry numbers: digits, then an optional short lower-case suffix ("12", "12a", "12bis").
NUMBER = re.compile(r"^[0-9]{1,12}[a-z]{0,3}$")
MAX_NUMBER_LENGTH = 16
#: Flags an operator may set beside the station's own (QUALITY_FLAGS holds all).
DUPLICATE_FLAG = "duplicate_number"
MAX_CUTS = 40
MIN_SIDE = 16  # pixels of the view; smaller is a slip of the finger, not an entry
MATCH_OVERLAP = 0.3  # intersection over union for a cut to edit an entry


@dataclass(frozen=True)
class Cut:
    """One checked cut."""

    box: Box
    number: str
    flags: tuple[str, ...]
    entry_id: str | None = None


def check_number(value: Any) -> str:
    """A valid entry number (stripped, lower-cased) or UsageError."""
    text = str(value if value is not None else "").strip().lower()
    if not text or len(text) > MAX_NUMBER_LENGTH or not NUMBER.match(text):
        raise UsageError("review.bad_number", number=text[:20])
    return text


def check_flags(values: Any) -> tuple[str, ...]:
    """Known quality flags, in a stable order without repeats."""
    if values is None:
        return ()
    if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
        raise UsageError("review.bad_cuts", detail="flags must be a list of texts")
    for flag in values:
        if flag not in QUALITY_FLAGS:
            raise UsageError("review.bad_flag", flag=flag[:40], known=", ".join(QUALITY_FLAGS))
    return tuple(dict.fromkeys(values))


def check_cuts(raw: Any, frame: ViewFrame) -> list[Cut]:
    """Check the cuts a screen sent; boxes are clamped to the view."""
    if not isinstance(raw, list | tuple) or len(raw) > MAX_CUTS:
        raise UsageError("review.bad_cuts", detail=f"a list of at most {MAX_CUTS} cuts expected")
    cuts = [_check_cut(item, index + 1, frame) for index, item in enumerate(raw)]
    ids = [c.entry_id for c in cuts if c.entry_id]
    if len(ids) != len(set(ids)):
        raise UsageError("review.bad_cuts", detail="an entry_id is given twice")
    return cuts


def _check_cut(item: Any, index: int, frame: ViewFrame) -> Cut:
    if not isinstance(item, Mapping):
        raise UsageError("review.bad_cuts", detail=f"cut {index}: an object expected")
    box = item.get("box")
    if (
        not isinstance(box, list | tuple)
        or len(box) != 4
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in box)
        or not all(abs(float(v)) < 1e6 for v in box)
    ):
        raise UsageError("review.bad_cuts", detail=f"cut {index}: box [left, top, right, bottom]")
    clamped = frame.clamp([round(float(v)) for v in box])
    if clamped[2] - clamped[0] < MIN_SIDE or clamped[3] - clamped[1] < MIN_SIDE:
        raise UsageError("review.bad_cuts", detail=f"cut {index}: box too small or off the page")
    entry_id = item.get("entry_id")
    if entry_id is not None and not isinstance(entry_id, str):
        raise UsageError("review.bad_cuts", detail=f"cut {index}: entry_id")
    return Cut(clamped, check_number(item.get("number")), check_flags(item.get("flags")), entry_id)


def overlap(a: Sequence[int], b: Sequence[int]) -> float:
    """Intersection over union of two boxes."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def match_cuts(
    cuts: Sequence[Cut], boxes: Mapping[str, Box | None], numbers: Mapping[str, str]
) -> list[str | None]:
    """For each cut, the id of the page entry it edits (None: a new entry).

    ``boxes``: the page's entries and their current view boxes; ``numbers``: their
    numbers. An explicit ``entry_id`` wins; the other cuts take the unclaimed entry
    they overlap by at least :data:`MATCH_OVERLAP`, a cut keeping the entry's number
    first (an entry split in two stays with the half that kept its number), then the
    largest overlap.
    """
    matched: list[str | None] = [c.entry_id for c in cuts]
    claimed = {entry_id for entry_id in matched if entry_id}
    pairs = sorted(
        (
            (cut.number == numbers.get(entry_id), score, -index, entry_id)
            for index, cut in enumerate(cuts)
            if cut.entry_id is None
            for entry_id, box in boxes.items()
            if box is not None
            and entry_id not in claimed
            and (score := overlap(cut.box, box)) >= MATCH_OVERLAP
        ),
        reverse=True,
    )
    for _, _, negative_index, entry_id in pairs:
        index = -negative_index
        if matched[index] is None and entry_id not in claimed:
            matched[index] = entry_id
            claimed.add(entry_id)
    return matched


def same_box(a: Sequence[int] | None, b: Sequence[int] | None, tolerance: int = 1) -> bool:
    """Whether two boxes are the same, give or take ``tolerance`` pixels per edge."""
    if a is None or b is None:
        return False
    return all(abs(int(x) - int(y)) <= tolerance for x, y in zip(a, b, strict=True))


def check_duplicates(cuts: Sequence[Cut], elsewhere: Iterable[str]) -> None:
    """Refuse a number used twice in the book unless its cut is flagged duplicate_number."""
    counts = Counter(elsewhere)
    counts.update(c.number for c in cuts)
    for cut in cuts:
        if counts[cut.number] > 1 and DUPLICATE_FLAG not in cut.flags:
            raise UsageError("review.duplicate_number", number=cut.number)
