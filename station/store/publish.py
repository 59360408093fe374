"""Publishing one version of an entry: name, record, file, feed, index, in that order.

The order is what makes a power cut harmless. A journal names the file about to be
written; then the file is written (never over another entry's file, and never over an
earlier version, which is first kept as a hard link in ``_versions``); then the feed
event; then the entry in the book database. :func:`station.store.recovery.recover`
finishes any publish cut short after the file was written.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from station import faults
from station.errors import StoreError
from station.fsutil import fsync_dir, write_atomic
from station.models import Book, Capture, Entry, EntryStatus, EntryVersion, Page, utc_now
from station.pdf.metadata import apply_metadata
from station.store.names import check_relpath, choose_name, version_path
from station.store.record import RecordFile, build_record, measure

if TYPE_CHECKING:
    from station.store.store import Store

log = logging.getLogger(__name__)

JOURNAL = "publishing.json"
DUPLICATE_FLAG = "duplicate_number"


def publish(store: Store, entry: Entry, pdf_bytes: bytes, encoding: str) -> EntryVersion:
    """Publish ``pdf_bytes`` as the next version of ``entry`` and return that version."""
    book = store.get_book(entry.book)
    stored = store.find_entry(entry.id)
    # The store's version history is authoritative, whatever copy the caller holds.
    entry = dataclasses.replace(
        entry, versions=list(stored.versions) if stored else [], flags=list(entry.flags)
    )
    if entry.versions:
        relpath = PurePosixPath(entry.versions[-1].file)
    else:
        relpath = _choose_name(store, book, entry)
    after = _next_version(entry, relpath, store.feed.last_seq + 1, encoding)
    record = build_record(store.station, book, after, *_sources(store, after))
    data = apply_metadata(pdf_bytes, record)
    sha, size = measure(data)
    newest = after.versions[-1]
    newest.sha256, newest.bytes = sha, size
    write_journal(store, newest)
    write_version_file(store, after, data)
    faults.checkpoint("store.after_file")
    store.feed.append_event(RecordFile(record, sha, size, newest.file).event())
    faults.checkpoint("store.after_feed")
    store.save_entry(after)
    clear_journal(store)
    log.info("published %s v%d as %s (%d bytes)", after.id, newest.version, newest.file, size)
    return newest


def _choose_name(store: Store, book: Book, entry: Entry) -> PurePosixPath:
    """The namer's name, made unique in its folder (rule in :mod:`.names`)."""
    base = check_relpath(store.namer(book, entry))
    taken = {
        other.versions[-1].file.casefold()
        for other in store.list_entries(book.ref.key)
        if other.id != entry.id and other.versions
    }
    folder = store.published_path(str(base.parent))
    if folder.is_dir():
        taken |= {str(base.parent / p.name).casefold() for p in folder.iterdir()}
    name, clashed = choose_name(base, taken)
    if clashed:
        log.warning("entry %s: name %s is taken, published as %s", entry.id, base, name)
        if DUPLICATE_FLAG not in entry.flags:
            entry.flags.append(DUPLICATE_FLAG)
    return name


def _next_version(entry: Entry, relpath: PurePosixPath, seq: int, encoding: str) -> Entry:
    """``entry`` as it will be indexed after this publish (hash and size still unset)."""
    versions = [dataclasses.replace(v) for v in entry.versions]
    if versions:
        # The previous current file is about to move (as a link) into _versions.
        previous = versions[-1]
        previous.file = str(version_path(relpath, previous.version))
    number = versions[-1].version + 1 if versions else 1
    versions.append(EntryVersion(number, str(relpath), "", 0, seq, utc_now(), encoding))
    return dataclasses.replace(entry, status=EntryStatus.PUBLISHED, versions=versions)


def _sources(store: Store, entry: Entry) -> tuple[list[Capture], list[Page]]:
    """The captures and pages the entry's regions come from, for its record."""
    captures: list[Capture] = []
    pages: list[Page] = []
    for capture_id in dict.fromkeys(r.capture_id for r in entry.regions):
        capture = store.get_capture(capture_id)
        if capture is None:
            log.warning("entry %s: capture %s is not in the index", entry.id, capture_id)
        else:
            captures.append(capture)
        page = store.get_page(entry.book, capture_id)
        if page is not None:
            pages.append(page)
    return captures, pages


def write_version_file(store: Store, entry: Entry, data: bytes) -> None:
    """Write the newest version's file without ever overwriting kept content."""
    newest = entry.versions[-1]
    current = store.published_path(newest.file)
    if len(entry.versions) == 1:
        try:
            write_atomic(current, data, replace=False)
        except FileExistsError as exc:
            raise StoreError("store.version_conflict", path=str(current)) from exc
        return
    keep = store.published_path(entry.versions[-2].file)
    _keep_previous(current, keep)
    write_atomic(current, data, replace=True)


def _keep_previous(current: Path, keep: Path) -> None:
    """Hard-link the current file at its ``_versions`` name, durably, before replacing."""
    created = not keep.parent.exists()
    keep.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(current, keep)
    except FileExistsError:
        # A publish cut short after this step left the link; it must be this content.
        if not os.path.samefile(current, keep) and current.read_bytes() != keep.read_bytes():
            raise StoreError("store.version_conflict", path=str(keep)) from None
    except FileNotFoundError as exc:
        raise StoreError(path=str(current), detail="the current file is missing") from exc
    fsync_dir(keep.parent)
    if created:
        fsync_dir(keep.parent.parent)


def journal_path(store: Store) -> Path:
    """The crash journal naming the publish in progress."""
    return store.db_dir / JOURNAL


def write_journal(store: Store, version: EntryVersion) -> None:
    """Name the file about to be written, so recovery knows to look at it."""
    payload: dict[str, Any] = {"file": version.file, "seq": version.seq}
    write_atomic(journal_path(store), json.dumps(payload).encode())


def read_journal(store: Store) -> dict[str, Any] | None:
    """The publish in progress when the station stopped, if any."""
    try:
        payload = json.loads(journal_path(store).read_bytes())
    except FileNotFoundError:
        return None
    except ValueError:
        log.warning("unreadable publish journal %s ignored", journal_path(store))
        return None
    return payload if isinstance(payload, dict) else None


def clear_journal(store: Store) -> None:
    """The publish is complete: forget it."""
    with contextlib.suppress(FileNotFoundError):
        journal_path(store).unlink()
        fsync_dir(store.db_dir)
