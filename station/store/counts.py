"""What a book's numbers mean, decided once: the status page, its JSON, the touch
screens, the LAN and the CLI all count with these functions.

* ``entries``: the live entries, the ones not withdrawn;
* ``published``: live entries whose file is published and not waiting for review;
* ``review``: live entries waiting for an operator;
* ``withdrawn``: entries taken back (their files are kept, but count no more);
* ``over_budget``: live entries whose file could not fit the size budget.

A collector *holds* an entry when it acknowledged the entry's current file (same
SHA-256) and the entry is not withdrawn: :func:`holds_current`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from station.core.models import OVER_BUDGET, Entry, EntryStatus
from station.store.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BookCounts:
    """The counts of one book (see the module's description for each meaning)."""

    pages: int
    entries: int
    published: int
    review: int
    withdrawn: int
    over_budget: int

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def is_live(entry: Entry) -> bool:
    """An entry that counts: not withdrawn."""
    return entry.status is not EntryStatus.WITHDRAWN


def count_entries(entries: Iterable[Entry], pages: int) -> BookCounts:
    """The counts of a book holding ``entries`` on ``pages`` pages."""
    listed = list(entries)
    live = [e for e in listed if is_live(e)]
    return BookCounts(
        pages=pages,
        entries=len(live),
        published=sum(1 for e in live if e.status is EntryStatus.PUBLISHED),
        review=sum(1 for e in live if e.status is EntryStatus.REVIEW),
        withdrawn=len(listed) - len(live),
        over_budget=sum(1 for e in live if OVER_BUDGET in e.flags),
    )


def book_counts(store: Store, key: str) -> BookCounts:
    """The counts of the book ``key`` as the store holds it now."""
    return count_entries(store.list_entries(key), len(store.list_pages(key)))


def holds_current(entry: Entry, ack: Mapping[str, Any] | None) -> bool:
    """True when ``ack`` (a collector's acknowledgement of ``entry``, with its
    ``sha256``) is for the entry's current file and the entry is not withdrawn."""
    current = entry.current
    if ack is None or current is None or not is_live(entry):
        return False
    return bool(ack.get("sha256") == current.sha256)
