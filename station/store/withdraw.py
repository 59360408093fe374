"""Withdrawing an entry: its files are kept, the index and the feed say it is gone.

An operator removes a cut that was not an entry (a heading row, a double cut). The
entry's PDF may already be on an entry PC, so the withdrawal must reach collectors
through the feed, and it must survive ``station reindex``, which rebuilds the index
from files alone. So a withdrawal is written in this order:

1. the entry's current file moves into ``_versions`` (:func:`.publish.vacate`: a hard
   link, then the old name goes), so the number's name is free for a new cut;
2. a tombstone ``withdrawn/<entry id>.json`` in the data folder, carrying the feed
   ``seq`` the withdrawal gets;
3. the feed event (kind ``withdrawn``, naming the file collectors know);
4. the entry, status ``withdrawn``, in its book database.

:func:`recover_withdrawals` (run at every open) finishes one cut short after the
tombstone; :func:`apply_tombstones` and :func:`tombstone_events` let reindex keep them.
Nothing is ever deleted.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from station.core.errors import CorruptDatabaseError
from station.core.fsutil import write_atomic
from station.core.models import Entry, EntryStatus, FeedEvent, FeedKind, utc_now
from station.store.base import StoreBase
from station.store.publish import vacate

log = logging.getLogger(__name__)

TOMBSTONES = "withdrawn"


@dataclass(frozen=True)
class Tombstone:
    """The durable record of one withdrawal."""

    entry_id: str
    book: str
    number: str
    version: int  # the version withdrawn (the newest at the time)
    file: str  # the name collectors knew the file by
    kept: str  # where the file is kept now (in _versions)
    sha256: str
    bytes: int
    seq: int
    at: str
    operator: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def event(self) -> FeedEvent:
        """The feed event announcing this withdrawal."""
        return FeedEvent(
            self.seq,
            FeedKind.WITHDRAWN,
            self.entry_id,
            self.book,
            self.number,
            self.version,
            self.file,
            self.sha256,
            self.bytes,
            self.at,
        )


def tombstone_dir(data_dir: Path) -> Path:
    """Where tombstones live (beside ``db/``, which reindex rebuilds)."""
    return data_dir / TOMBSTONES


def withdraw(store: StoreBase, entry_id: str, operator: str = "") -> FeedEvent | None:
    """Withdraw an entry; returns the feed event, or None when nothing was published.

    Withdrawing a withdrawn entry does nothing.
    """
    entry = store.get_entry(entry_id)
    if entry.status is EntryStatus.WITHDRAWN:
        return None
    if not entry.versions:
        store.save_entry(dataclasses.replace(entry, status=EntryStatus.WITHDRAWN))
        return None
    known_as = entry.current_file
    moved = vacate(store, entry)
    newest = moved.versions[-1]
    stone = Tombstone(
        entry_id=entry.id,
        book=entry.book,
        number=entry.number,
        version=newest.version,
        file=known_as,
        kept=newest.file,
        sha256=newest.sha256,
        bytes=newest.bytes,
        seq=store.feed.last_seq + 1,
        at=utc_now(),
        operator=operator,
    )
    path = tombstone_dir(store.data_dir) / f"{entry.id}.json"
    write_atomic(path, json.dumps(stone.to_dict(), ensure_ascii=False).encode())
    event = store.feed.append_event(stone.event())
    store.save_entry(dataclasses.replace(moved, status=EntryStatus.WITHDRAWN))
    log.info("entry %s (%s) withdrawn; file kept as %s", entry.id, entry.number, newest.file)
    return event


def read_tombstones(data_dir: Path) -> list[Tombstone]:
    """Every tombstone, in feed order; a damaged one raises naming the file."""
    stones = []
    for path in sorted(tombstone_dir(data_dir).glob("*.json")):
        try:
            stones.append(Tombstone(**json.loads(path.read_bytes())))
        except (ValueError, TypeError) as exc:
            raise CorruptDatabaseError(path=str(path), detail=str(exc)) from exc
    return sorted(stones, key=lambda s: s.seq)


def recover_withdrawals(store: StoreBase) -> list[int]:
    """Finish withdrawals a crash cut short; returns the feed seqs appended."""
    appended = []
    for stone in read_tombstones(store.data_dir):
        if store.feed.get(stone.seq) is None and stone.seq > store.feed.last_seq:
            store.feed.append_event(stone.event())
            appended.append(stone.seq)
        entry = store.find_entry(stone.entry_id)
        if entry is None or entry.status is EntryStatus.WITHDRAWN:
            continue
        if entry.current is None or entry.current.version <= stone.version:
            moved = vacate(store, entry)
            store.save_entry(dataclasses.replace(moved, status=EntryStatus.WITHDRAWN))
            log.warning("withdrawal of %s finished after an interruption", entry.id)
    return appended


def apply_tombstones(entries: list[Entry], stones: list[Tombstone]) -> list[Entry]:
    """``entries`` with the withdrawn ones marked (for reindex)."""
    latest = {s.entry_id: s for s in stones}
    marked = []
    for entry in entries:
        stone = latest.get(entry.id)
        if stone is not None and (entry.current is None or entry.current.version <= stone.version):
            entry = dataclasses.replace(entry, status=EntryStatus.WITHDRAWN)
        marked.append(entry)
    return marked


def merge_events(events: list[FeedEvent], stones: list[Tombstone]) -> list[FeedEvent]:
    """File events and withdrawal events in one seq order (for reindex)."""
    taken = {e.seq for e in events}
    extra = [s.event() for s in stones if s.seq not in taken]
    return sorted([*events, *extra], key=lambda e: e.seq)
