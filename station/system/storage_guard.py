"""Storage safety: stop new captures before the disk fills, warn early, show what can go.

The station keeps ``storage.reserve_mb`` free: below it, intake refuses a new capture
(:class:`DiskFullError`) *before* writing anything, so every page already captured
stays safe and the queued pages still have room to become PDFs. Below
``storage.warn_mb`` the screen warns, while there is still time to let the entry PCs
collect and to clean up.

What can be cleaned is the raw captures (a full page image is megabytes; its entry
PDFs are a few hundred KB and *are* the index, so they stay): a raw capture can go once
every entry cut from it is published and, where the LAN service keeps
acknowledgements, every paired collector has acknowledged the current version of each.
Without acknowledgements the basis is "published" only, and the report says so.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from station.core.diskspace import MB
from station.core.models import Entry, EntryStatus, Page
from station.lan.acks import Acks
from station.lan.db import LanDB
from station.lan.pairing import Pairing
from station.store import Store
from station.store.counts import holds_current

log = logging.getLogger(__name__)


#: Whether every paired collector has acknowledged an entry's current version.
Acknowledged = Callable[[Entry], bool]


@dataclass(frozen=True)
class Cleanable:
    """One raw capture that may be deleted: every entry cut from it is safe elsewhere."""

    book: str
    capture_id: str
    path: Path
    bytes: int
    entries: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "book": self.book,
            "capture_id": self.capture_id,
            "path": str(self.path),
            "bytes": self.bytes,
            "entries": list(self.entries),
        }


@dataclass
class CleanupReport:
    """What can be cleaned, and on what basis ("acknowledged" or only "published")."""

    basis: str
    items: list[Cleanable] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        return sum(item.bytes for item in self.items)

    def to_dict(self) -> dict[str, Any]:
        return {
            "basis": self.basis,
            "count": len(self.items),
            "total_mb": round(self.total_bytes / MB, 1),
            "items": [item.to_dict() for item in self.items],
        }


def cleanable(
    store: Store,
    data_dir: Path,
    acknowledged: Acknowledged | None = None,
    *,
    published_only: bool = False,
) -> CleanupReport:
    """Raw captures whose every entry is published and acknowledged by every collector.

    ``acknowledged`` defaults to the LAN service's records
    (:func:`collector_acknowledgements`); with ``published_only`` (no caller in the
    product yet: the tests use it to judge the publishing rule alone), being published
    is enough and the report's basis says so.
    A capture still queued, failed, under review, or that gave no entry at all is never
    listed: its raw image is the only copy of that page's content.
    """
    if acknowledged is None and not published_only:
        acknowledged = collector_acknowledgements(data_dir)
    report = CleanupReport("acknowledged" if acknowledged is not None else "published")
    for book in store.list_books():
        entries = {entry.id: entry for entry in store.list_entries(book.ref.key)}
        for page in store.list_pages(book.ref.key):
            item = _cleanable_page(store, data_dir, page, entries, acknowledged)
            if item is not None:
                report.items.append(item)
    return report


def _cleanable_page(
    store: Store,
    data_dir: Path,
    page: Page,
    entries: dict[str, Entry],
    acknowledged: Acknowledged | None,
) -> Cleanable | None:
    capture = store.get_capture(page.capture_id)
    if capture is None or not page.entry_ids:
        return None
    raw = data_dir / capture.raw_path
    if not raw.is_file() or not raw.with_name(raw.name + ".done").exists():
        return None  # not processed yet, or already cleaned
    for entry_id in page.entry_ids:
        entry = entries.get(entry_id)
        if entry is None or entry.status is not EntryStatus.PUBLISHED or entry.current is None:
            return None
        if acknowledged is not None and not acknowledged(entry):
            return None
    return Cleanable(capture.book, capture.id, raw, raw.stat().st_size, tuple(page.entry_ids))


def remove(
    report: CleanupReport, store: Store, data_dir: Path, acknowledged: Acknowledged | None = None
) -> int:
    """Delete the raw captures of ``report`` that are still cleanable; bytes freed.

    Each one is checked again first, on the report's basis (a rescan may have reopened
    an entry, or a collector been paired, since the list was shown). The ``.done``
    marker stays, so the capture is not taken for an orphan; the entries and their PDFs
    are untouched.
    """
    if acknowledged is None and report.basis == "acknowledged":
        acknowledged = collector_acknowledgements(data_dir)
    freed = 0
    for book in sorted({item.book for item in report.items}):
        entries = {entry.id: entry for entry in store.list_entries(book)}
        for item in (i for i in report.items if i.book == book):
            page = store.get_page(book, item.capture_id)
            again = page and _cleanable_page(store, data_dir, page, entries, acknowledged)
            if not again:
                continue
            try:
                os.unlink(again.path)
            except OSError as exc:
                log.warning("could not delete raw capture %s: %s", again.path, exc)
                continue
            freed += again.bytes
            log.info("deleted raw capture %s (%d bytes)", again.path, again.bytes)
    return freed


def collector_acknowledgements(data_dir: Path) -> Acknowledged:
    """ "Every paired collector holds this entry's current version" (each judged by
    :func:`station.store.counts.holds_current`), from the LAN service's records.

    With no collector paired, nothing is acknowledged: no entry PC has a copy.
    """
    lan = LanDB.for_data_dir(data_dir)
    collectors = [c.id for c in Pairing(lan).collectors()]
    acks = Acks(lan.folder / "acks")

    def acknowledged(entry: Entry) -> bool:
        return bool(collectors) and all(
            holds_current(entry, acks.of(collector, entry.book).get(entry.id))
            for collector in collectors
        )

    return acknowledged
