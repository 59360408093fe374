"""Entry numbers that never rest on a guess about an earlier page.

Processing numbers a page's entries on from the book's ``next_entry``. That is right
only if every earlier page's count is: a page in review (its count uncertain, its
cuts not confirmed) may gain or lose entries when a person looks at it, and every
number after it would then be off by as many. So a page processed while an earlier
page of its book still waits for review is numbered provisionally and held
(:data:`NUMBER_FLAG`, a review flag): its files are not published under numbers
that may be wrong. When the earlier pages are settled (reviewed, accepted or
published on their own), :func:`settle` numbers the held pages on from the last
settled number, in page order, drops the flag, and hands back the pages that may
now be published.

A held page a person reviewed before its predecessors keeps the numbers that
person gave it (they decided), and numbering goes on after them.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field

from station.core.models import Entry, EntryStatus, Page, numeric
from station.store import Store

log = logging.getLogger(__name__)

#: An entry numbered while an earlier page of its book waited for review.
NUMBER_FLAG = "number_uncertain"


@dataclass
class _Book:
    """A book's pages that hold entries now (not replaced by a recapture), in order,
    and its entries by id: read once (the store finds an entry by scanning)."""

    pages: list[Page]
    entries: dict[str, Entry]

    @classmethod
    def read(cls, store: Store, book_key: str) -> _Book:
        pages = [p for p in store.list_pages(book_key) if not p.replaced_by]
        return cls(
            sorted(pages, key=lambda p: (p.sequence, p.capture_id)),
            {e.id: e for e in store.list_entries(book_key)},
        )

    def live(self, page: Page) -> list[Entry]:
        entries = (self.entries.get(entry_id) for entry_id in page.entry_ids)
        return [e for e in entries if e is not None and e.status is not EntryStatus.WITHDRAWN]

    def unsettled(self, page: Page) -> bool:
        """Whether the page's count may still change: entries wait for review, or it
        is to be captured again."""
        if page.recapture_requested:
            return True
        return any(e.status is EntryStatus.REVIEW for e in self.live(page))


def waits_on(store: Store, book_key: str, before: int) -> Page | None:
    """The first page before sequence ``before`` whose count may still change."""
    book = _Book.read(store, book_key)
    for page in book.pages:
        if page.sequence >= before:
            return None
        if book.unsettled(page):
            return page
    return None


@dataclass
class Settled:
    """What :func:`settle` changed: pages renumbered, and those free to publish."""

    renumbered: list[Page] = field(default_factory=list)
    publishable: list[Page] = field(default_factory=list)


def settle(store: Store, book_key: str, first_entry: int, review_flags: frozenset[str]) -> Settled:
    """Number the held pages whose predecessors are all settled (see the module).

    Held pages after a page still in doubt are numbered on too, provisionally and
    still held, so that no two entries of the book wait under one number.
    ``review_flags``: the page flags that keep entries in review; a page released
    with none of them left is returned as publishable. Call with the book lock held.
    """
    done = Settled()
    book = _Book.read(store, book_key)
    last = first_entry - 1
    settled_so_far = True
    for page in book.pages:
        entries = book.live(page)
        if NUMBER_FLAG in page.flags:
            before = [(e.number, sorted(e.flags)) for e in entries]
            if not page.reviewed_by:
                entries = _renumber(store, entries, last, held=not settled_so_far)
            if settled_so_far:
                page.flags = [f for f in page.flags if f != NUMBER_FLAG]
                store.save_page(page)
                if not review_flags.intersection(page.flags):
                    done.publishable.append(page)
            if settled_so_far or before != [(e.number, sorted(e.flags)) for e in entries]:
                done.renumbered.append(page)
        if settled_so_far and book.unsettled(page):
            settled_so_far = False  # the pages after it wait for it
        last = max([last, *(numeric(e.number) for e in entries)])
    return done


def _renumber(store: Store, entries: list[Entry], last: int, held: bool) -> list[Entry]:
    """Number ``entries`` (in the page's reading order) on from ``last``; ``held``:
    they keep :data:`NUMBER_FLAG`."""
    renumbered = []
    for offset, entry in enumerate(entries, start=1):
        number = str(last + offset)
        flags = [f for f in entry.flags if f != NUMBER_FLAG] + ([NUMBER_FLAG] if held else [])
        if number == entry.number and sorted(flags) == sorted(entry.flags):
            renumbered.append(entry)
            continue
        log.info("entry %s renumbered %s -> %s", entry.id, entry.number, number)
        changed = dataclasses.replace(entry, number=number, flags=sorted(flags))
        store.save_entry(changed)
        renumbered.append(changed)
    return renumbered


def provisional(entry: Entry) -> bool:
    """Whether the entry's number is provisional (held, see the module): another
    entry may take it while it waits."""
    return entry.status is EntryStatus.REVIEW and NUMBER_FLAG in entry.flags
