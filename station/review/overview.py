"""The book overview: one cell per entry number, saying where that number stands.

Cells run from the book's first entry number to the larger of the expected last
number (``first_entry + expected_entries - 1``) and the highest number found, so gaps
(numbers never captured, or skipped by the ledger itself) show as ``missing``.
Numbers with a suffix ("12a") get a cell after their base number. Withdrawn entries
do not count.

A cell's state, the first that applies:

``missing`` no entry has the number; ``rescan_requested`` an entry's page waits to be
captured again (or an entry PC asked for a rescan); ``review`` an entry waits to be
accepted; ``duplicated`` more than one entry has the number; ``collected`` every
entry's current file was acknowledged by a collector (its flags matter no more at the
station); ``flagged`` an entry carries a quality flag (:data:`ATTENTION_FLAGS`; the
encoder sets ``faded`` by itself); ``done`` published. Each cell also carries its
flags and whether it is collected, whatever its state.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from station.core.models import Book, Entry, EntryStatus, Page, numeric
from station.store.counts import is_live

log = logging.getLogger(__name__)

STATES = ("missing", "rescan_requested", "review", "duplicated", "collected", "flagged", "done")
#: Flags that make a cell "flagged" (the encoder's notes such as ink_enhanced do not).
ATTENTION_FLAGS = frozenset(
    {
        "faded",
        "torn",
        "missing_fields",
        "illegible",
        "stained",
        "over_budget",
        "number_uncertain",
    }
)
#: Numbers shown at most in one overview; a typo such as 99999 must not build a
#: hundred thousand cells.
MAX_CELLS = 5000


def build_overview(
    book: Book,
    entries: Iterable[Entry],
    pages: Iterable[Page],
    collected: set[str],
    rescans: set[str] | None = None,
) -> dict[str, Any]:
    """The overview of ``book``; ``collected`` and ``rescans`` hold entry ids."""
    live = [e for e in entries if is_live(e)]
    page_of = {entry_id: page for page in pages for entry_id in page.entry_ids}
    waiting = {i for i, p in page_of.items() if p.recapture_requested and not p.replaced_by}
    waiting |= rescans or set()
    by_number: dict[str, list[Entry]] = {}
    for entry in live:
        by_number.setdefault(entry.number, []).append(entry)
    cells = []
    for number in _numbers(book, by_number):
        found = by_number.get(number, [])
        cells.append(_cell(number, found, page_of, waiting, collected))
    counts = Counter(cell["state"] for cell in cells)
    last = book.first_entry + book.expected_entries - 1 if book.expected_entries else None
    return {
        "book": book.ref.key,
        "ref": str(book.ref),
        "first_entry": book.first_entry,
        "expected_last": last,
        "highest": max((numeric(n) for n in by_number), default=None),
        "next_entry": book.next_entry,
        "counts": {state: counts.get(state, 0) for state in STATES},
        "entries": len(live),
        "cells": cells,
    }


def _numbers(book: Book, by_number: dict[str, list[Entry]]) -> list[str]:
    """Every number to show, in ledger order."""
    last = book.first_entry - 1
    if book.expected_entries:
        last = book.first_entry + book.expected_entries - 1
    last = max([last, *(numeric(n) for n in by_number)])
    last = min(last, book.first_entry + MAX_CELLS - 1)
    numbers = {str(n) for n in range(book.first_entry, last + 1)}
    numbers |= set(by_number)
    return sorted(numbers, key=lambda n: (numeric(n), len(n), n))


def _cell(
    number: str,
    found: list[Entry],
    page_of: dict[str, Page],
    waiting: set[str],
    collected: set[str],
) -> dict[str, Any]:
    flags = sorted({f for e in found for f in e.flags})
    is_collected = bool(found) and all(e.id in collected for e in found)
    checks: list[tuple[str, Callable[[], bool]]] = [
        ("missing", lambda: not found),
        ("rescan_requested", lambda: any(e.id in waiting for e in found)),
        ("review", lambda: any(e.status is EntryStatus.REVIEW for e in found)),
        ("duplicated", lambda: len(found) > 1),
        ("collected", lambda: is_collected),
        ("flagged", lambda: bool(ATTENTION_FLAGS.intersection(flags))),
    ]
    state = next((name for name, applies in checks if applies()), "done")
    return {
        "number": number,
        "state": state,
        "flags": flags,
        "collected": is_collected,
        "entries": [_entry(e, page_of.get(e.id)) for e in found],
    }


def _entry(entry: Entry, page: Page | None) -> dict[str, Any]:
    current = entry.current
    return {
        "entry_id": entry.id,
        "status": entry.status.value,
        "flags": list(entry.flags),
        "file": current.file if current else None,
        "version": current.version if current else None,
        "capture_id": page.capture_id if page else None,
        "pages": entry.pages,
    }
