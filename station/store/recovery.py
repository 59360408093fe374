"""Repairs at open: what a power cut or crash in the middle of a write left behind.

Temp files are removed. A published PDF the index does not know (the publish stopped
after writing the file) is indexed from its own metadata record, and its feed event is
appended with the seq the file carries, so collectors see it exactly once.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from station.core.errors import StoreError
from station.core.fsutil import remove_stale_temps
from station.store.base import StoreBase
from station.store.names import is_version_path
from station.store.publish import clear_journal, read_journal
from station.store.record import RecordFile, read_record_file
from station.store.withdraw import recover_withdrawals

log = logging.getLogger(__name__)


@dataclass
class RecoveryReport:
    """What :func:`recover` found and did."""

    removed_temps: list[str] = field(default_factory=list)
    indexed: list[str] = field(default_factory=list)  # files added to the index
    feed_appended: list[int] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # PDFs without a usable record
    problems: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether anything was repaired or needs a person's attention."""
        return bool(
            self.removed_temps
            or self.indexed
            or self.feed_appended
            or self.unreadable
            or self.problems
        )


def recover(store: StoreBase) -> RecoveryReport:
    """Remove stale temp files and index published PDFs the index lacks."""
    report = RecoveryReport()
    for root in (store.published_dir, store.db_dir):
        report.removed_temps += [str(p) for p in remove_stale_temps(root)]
    records: list[RecordFile] = []
    for path in _candidates(store):
        try:
            records.append(read_record_file(store.published_dir, path))
        except (StoreError, OSError) as exc:
            relpath = path.relative_to(store.published_dir).as_posix()
            log.error("published file %s has no usable record: %s", relpath, exc)
            report.unreadable.append(relpath)
    # Feed numbers only go up, so the oldest missing version goes first.
    for found in sorted(records, key=lambda r: (r.seq, r.relpath)):
        apply_record(store, found, report)
    report.feed_appended += recover_withdrawals(store)
    clear_journal(store)
    return report


def _candidates(store: StoreBase) -> list[Path]:
    """Published PDFs the index does not name, plus the one a publish was writing."""
    known = {v.file for entry in store.all_entries() for v in entry.versions}
    found: dict[Path, None] = {}
    for path in sorted(store.published_dir.rglob("*.pdf")):
        relpath = path.relative_to(store.published_dir).as_posix()
        if not path.name.startswith(".") and path.is_file() and relpath not in known:
            found[path] = None
    journal = read_journal(store)
    if journal is not None:
        # The journalled file may hold a new version under an already known name.
        path = store.published_path(str(journal.get("file", "")))
        if path.is_file() and path.suffix == ".pdf":
            found[path] = None
    return list(found)


def _left_by_vacate(store: StoreBase, found: RecordFile, indexed: str) -> bool:
    """Whether ``found`` is an old name whose content the index keeps in _versions."""
    if is_version_path(PurePosixPath(found.relpath)) or not is_version_path(PurePosixPath(indexed)):
        return False
    kept = store.published_path(indexed)
    return kept.is_file() and os.path.samefile(kept, store.published_path(found.relpath))


def apply_record(store: StoreBase, found: RecordFile, report: RecoveryReport) -> None:
    """Bring the index and feed up to date with one published file's record."""
    if not store.has_book(found.book_key):
        store.create_book(found.book())
    for capture in found.captures():
        if store.get_capture(capture.id) is None:
            store.add_capture(capture)
    for page in found.pages():
        if store.get_page(page.book, page.capture_id) is None:
            store.save_page(page)
    stored = store.find_entry(found.entry_id)
    if stored is None or stored.current is None or stored.current.version < found.version:
        store.save_entry(found.entry())
        report.indexed.append(found.relpath)
        log.warning("indexed %s (v%d) from its own metadata", found.relpath, found.version)
    elif _left_by_vacate(store, found, stored.current.file):
        # A renumbering or withdrawal moved the file into _versions and stopped
        # before the old name was removed: the index already names the kept link.
        store.published_path(found.relpath).unlink()
        report.removed_temps.append(found.relpath)
    if store.feed.get(found.seq) is None:
        if found.seq > store.feed.last_seq:
            store.feed.append_event(found.event())
            report.feed_appended.append(found.seq)
        else:
            report.problems.append(
                f"{found.relpath}: feed lacks seq {found.seq} (last {store.feed.last_seq});"
                " run 'station reindex'"
            )
