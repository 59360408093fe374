"""A page captured again: the new capture takes over the old page's entries.

When the operator asks for a page to be captured again (:meth:`station.review.review.Review.
request_recapture`), the book's next processed capture is that page: its regions are
given, in reading order, to the old page's entries, which keep their ids and numbers
(so a published entry gets a new version of the same file, feed ``replaced``). Extra
regions become new entries numbered on from the book; old entries left without a
region stay on the old page for the operator to deal with. The new page keeps the
old page's place in the book (sequence and page numbers).

Idempotent like the rest of processing: the old page is marked ``replaced_by`` first,
and the entries are found again by their new source keys after a crash.
"""

from __future__ import annotations

import dataclasses
import logging

from station.core.layouts import LayoutProfile
from station.core.models import (
    OPERATOR_FLAGS,
    Book,
    Capture,
    Entry,
    EntryStatus,
    Page,
    Region,
    new_id,
    numeric,
)
from station.processing.imaging.load import Decoded
from station.processing.imaging.segment import Segmentation
from station.processing.page import make_region
from station.store import Store

log = logging.getLogger(__name__)

#: Flags an entry keeps from its earlier capture (about the paper, not the picture).
KEPT_FLAGS = frozenset({*OPERATOR_FLAGS, "duplicate_number", "continues_overleaf"})


def pending_recapture(store: Store, book_key: str, capture_id: str) -> Page | None:
    """The page waiting to be captured again that ``capture_id`` replaces, if any."""
    for page in store.list_pages(book_key):
        if page.capture_id == capture_id or not page.recapture_requested:
            continue
        if page.replaced_by in ("", capture_id):
            return page
    return None


def take_over(
    store: Store,
    book: Book,
    capture: Capture,
    profile: LayoutProfile,
    found: Segmentation,
    source: Decoded,
) -> Page | None:
    """Make ``capture`` the new page of a page waiting for recapture (None: none waits)."""
    old = pending_recapture(store, book.ref.key, capture.id)
    if old is None:
        return None
    old.replaced_by = capture.id
    store.save_page(old)
    heirs = [
        e
        for e in (store.find_entry(i) for i in old.entry_ids)
        if e is not None and e.status is not EntryStatus.WITHDRAWN
    ]
    next_number = book.next_entry
    entries: list[Entry] = []
    for index, proposed in enumerate(found.regions):
        source_key = f"{capture.id}#{index}"
        entry = store.find_entry_by_source(book.ref.key, source_key)
        if entry is None:
            side = proposed.page_side
            region = dataclasses.replace(
                make_region(capture.id, proposed, found.angle, 0, source),
                page_number=old.page_numbers[side] if side < len(old.page_numbers) else None,
            )
            entry = _heir(heirs, index, region, found, source_key, capture, next_number)
            store.save_entry(entry)
        next_number = max(next_number, numeric(entry.number) + 1)
        entries.append(entry)
    taken = {e.id for e in entries}
    old.entry_ids = [i for i in old.entry_ids if i not in taken]
    old.recapture_requested = False
    store.save_page(old)
    book.next_entry = max(book.next_entry, next_number)
    store.update_book(book)
    page = Page(
        capture_id=capture.id,
        book=book.ref.key,
        sequence=old.sequence,
        profile=profile.name,
        entry_ids=[e.id for e in entries],
        page_numbers=list(old.page_numbers),
        flags=list(found.flags),
        confidence=found.confidence,
        outside=[piece.to_dict() for piece in found.outside.pieces],
        flag_details=found.details,
        replaces=old.capture_id,
    )
    store.save_page(page)
    log.info("capture %s replaces page %s (%d entries)", capture.id, old.capture_id, len(entries))
    return page


def _heir(
    heirs: list[Entry],
    index: int,
    region: Region,
    found: Segmentation,
    source_key: str,
    capture: Capture,
    next_number: int,
) -> Entry:
    """The old entry at ``index`` with its new region, or a new entry past the old ones."""
    if index < len(heirs):
        old = heirs[index]
        flags = [f for f in old.flags if f in KEPT_FLAGS]
        flags += [f for f in found.flags if f not in flags]
        return dataclasses.replace(
            old,
            regions=[region],
            status=EntryStatus.REVIEW,  # publishes again (a new version) when accepted
            flags=flags,
            source_key=source_key,
            operator=capture.operator or old.operator,
        )
    return Entry(
        id=new_id("e"),
        book=capture.book,
        number=str(next_number),
        regions=[region],
        flags=list(found.flags),
        operator=capture.operator,
        source_key=source_key,
    )
