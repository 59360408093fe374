"""Rebuild every book database and the feed from the published PDFs alone.

The new index is built in a fresh folder (``db/reindex-<stamp>``), then swapped in; the
old ``db/books`` and ``db/feed`` are kept aside as ``db/old-<stamp>/`` and never deleted.
A marker file makes the two-folder swap restartable: if the power goes in the middle,
the next :func:`complete_pending_swap` (run by every open) finishes it.
``db/station.json`` (settings, operators) is left as it is.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from station.core.errors import StoreError
from station.core.fsutil import fsync_dir, write_atomic
from station.core.models import Book, Capture, Entry, FeedEvent, Page, StationInfo
from station.store.bookdb import BookDB
from station.store.feed import DEFAULT_SEGMENT_SIZE, Feed, stored_segment_size
from station.store.lock import StationLock
from station.store.names import is_version_path
from station.store.record import RecordFile, read_record_file
from station.store.withdraw import Tombstone, apply_tombstones, merge_events, read_tombstones

log = logging.getLogger(__name__)

MARKER = "reindex.json"
SWAPPED = ("books", "feed")


@dataclass
class ReindexReport:
    """What :func:`reindex` read and built."""

    files: int = 0  # PDFs read successfully
    books: int = 0
    entries: int = 0
    events: int = 0
    unreadable: list[str] = field(default_factory=list)  # "path: reason"
    conflicts: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)  # files made by another station
    old_dir: str = ""

    @property
    def problems(self) -> list[str]:
        """Everything a person should look at: unreadable files and conflicts."""
        return [*self.unreadable, *self.conflicts]


def reindex(data_dir: Path, station: StationInfo) -> ReindexReport:
    """Rebuild ``db/books`` and ``db/feed`` from ``published/`` (the station must be stopped)."""
    lock = StationLock(data_dir)
    lock.acquire()
    try:
        db_dir = data_dir / "db"
        complete_pending_swap(db_dir)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
        report = ReindexReport()
        records = _read_all(data_dir / "published", station, report)
        fresh = db_dir / f"reindex-{stamp}"
        segment_size = stored_segment_size(db_dir / "feed") or DEFAULT_SEGMENT_SIZE
        _build(fresh, records, read_tombstones(data_dir), segment_size, report)
        old = db_dir / f"old-{stamp}"
        write_atomic(db_dir / MARKER, json.dumps({"fresh": fresh.name, "old": old.name}).encode())
        complete_pending_swap(db_dir)
        report.old_dir = str(old)
        log.info("reindex done: %s", report)
        return report
    finally:
        lock.release()


def _read_all(published: Path, station: StationInfo, report: ReindexReport) -> list[RecordFile]:
    """Every readable published PDF's record; the rest are reported, not fatal."""
    records: list[RecordFile] = []
    for path in sorted(published.rglob("*.pdf")) if published.exists() else []:
        if path.name.startswith(".") or not path.is_file():
            continue
        relpath = path.relative_to(published).as_posix()
        try:
            found = read_record_file(published, path)
        except (StoreError, OSError) as exc:
            log.error("reindex: %s skipped: %s", relpath, exc)
            report.unreadable.append(f"{relpath}: {exc}")
            continue
        if found.record.get("station", {}).get("id") != station.id:
            report.foreign.append(relpath)
        records.append(found)
    report.files = len(records)
    return records


def _latest_versions(records: list[RecordFile], report: ReindexReport) -> list[RecordFile]:
    """Per entry, the record of its newest version (a current file over a kept link)."""
    best: dict[str, RecordFile] = {}
    for found in records:
        rank = (found.version, not is_version_path(_posix(found.relpath)))
        held = best.get(found.entry_id)
        if held is None or rank > (held.version, not is_version_path(_posix(held.relpath))):
            best[found.entry_id] = found
    return list(best.values())


def _events(records: list[RecordFile], report: ReindexReport) -> list[FeedEvent]:
    """One feed event per published version, in seq order."""
    by_seq: dict[int, RecordFile] = {}
    for found in sorted(records, key=lambda r: (is_version_path(_posix(r.relpath)), r.relpath)):
        held = by_seq.get(found.seq)
        if held is None:
            by_seq[found.seq] = found
        elif (held.entry_id, held.version) != (found.entry_id, found.version):
            report.conflicts.append(f"seq {found.seq}: {held.relpath} and {found.relpath}")
    return [by_seq[seq].event() for seq in sorted(by_seq)]


def _build(
    fresh: Path,
    records: list[RecordFile],
    stones: list[Tombstone],
    segment_size: int,
    rep: ReindexReport,
) -> None:
    """Write the new book databases and feed under ``fresh`` (withdrawals from ``stones``)."""
    by_seq = sorted(records, key=lambda r: r.seq)
    books: dict[str, Book] = {}
    captures: dict[str, Capture] = {}
    pages: dict[tuple[str, str], Page] = {}
    for found in by_seq:  # later snapshots win
        books[found.book_key] = found.book()
        captures.update((c.id, c) for c in found.captures())
        pages.update(((p.book, p.capture_id), p) for p in found.pages())
    entries: dict[str, list[Entry]] = {}
    for found in _latest_versions(records, rep):
        entries.setdefault(found.book_key, []).append(found.entry())
    for key, book in sorted(books.items()):
        book_db = BookDB(fresh / "books" / f"{key}.json")
        book_db.load(
            book,
            [c for c in captures.values() if c.book == key],
            [p for k, p in pages.items() if k[0] == key],
            apply_tombstones(entries.get(key, []), stones),
        )
        book_db.close()
    orphans = {c.book for c in captures.values()} - set(books)
    rep.conflicts += [f"captures of unknown book {key} dropped" for key in sorted(orphans)]
    events = merge_events(_events(records, rep), stones)
    (fresh / "books").mkdir(parents=True, exist_ok=True)
    Feed(fresh / "feed", segment_size).extend(events)
    rep.books, rep.events = len(books), len(events)
    rep.entries = sum(len(v) for v in entries.values())


def complete_pending_swap(db_dir: Path) -> None:
    """Finish a reindex swap that a crash interrupted (no-op without a marker)."""
    marker = db_dir / MARKER
    if not marker.exists():
        return
    plan = json.loads(marker.read_bytes())
    fresh, old = db_dir / plan["fresh"], db_dir / plan["old"]
    old.mkdir(exist_ok=True)
    for part in SWAPPED:
        if not (fresh / part).exists():
            continue  # already moved in
        if (db_dir / part).exists():
            if (old / part).exists():
                raise StoreError(path=str(db_dir / part), detail="reindex swap cannot proceed")
            os.rename(db_dir / part, old / part)
        os.rename(fresh / part, db_dir / part)
    fsync_dir(old)
    fsync_dir(db_dir)
    fresh.rmdir()
    marker.unlink()
    fsync_dir(db_dir)
    log.warning("reindexed database swapped in; the previous one is kept in %s", old)


def _posix(relpath: str) -> PurePosixPath:
    return PurePosixPath(relpath)
