"""Publishing one version of an entry: name, record, file, feed, index, in that order.

The order is what makes a power cut harmless. A journal names the file about to be
written; then the file is written (never over another entry's file, and never over an
earlier version, which is first kept as a hard link in ``_versions``); then the feed
event; then the entry in the book database. :func:`station.store.recovery.recover`
finishes any publish cut short after the file was written.

A renumbered entry changes its name: :func:`vacate` first moves its current file into
``_versions`` (a hard link, then the old name is removed), and the next publish of
that entry chooses a name as for a new entry. Doing every vacate of a review before
any publish lets two entries swap numbers without either getting a ``_2`` name.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from station.core import faults
from station.core.errors import StoreError
from station.core.fsutil import fsync_dir, write_atomic
from station.core.models import Book, Capture, Entry, EntryStatus, EntryVersion, Page, utc_now
from station.store.base import StoreBase
from station.store.names import check_relpath, choose_name, is_version_path, version_path
from station.store.record import RecordFile, build_record, measure
from station.store.xmp import read_metadata

log = logging.getLogger(__name__)

JOURNAL = "publishing.json"
DUPLICATE_FLAG = "duplicate_number"


@dataclass(frozen=True)
class PublishPlan:
    """One version about to be published: the entry as the index will hold it (hash
    and size still unset) and the record its PDF must carry.

    The store decides names, version numbers and the feed ``seq``; processing turns
    the record into the finished PDF (:mod:`station.processing.page`), so the budget
    covers the file exactly as written.
    """

    entry: Entry
    record: dict[str, Any]
    in_place: bool  # the new file replaces the current one under the same name

    @property
    def version(self) -> EntryVersion:
        return self.entry.versions[-1]


def plan_publish(store: StoreBase, entry: Entry, encoding: str) -> PublishPlan:
    """What publishing ``entry`` now would write; nothing is changed yet."""
    book = store.get_book(entry.book)
    stored = store.find_entry(entry.id)
    # The store's version history is authoritative, whatever copy the caller holds.
    entry = dataclasses.replace(
        entry, versions=list(stored.versions) if stored else [], flags=list(entry.flags)
    )
    in_place = bool(entry.versions) and not is_version_path(PurePosixPath(entry.current_file))
    if in_place:
        relpath = PurePosixPath(entry.current_file)
        keep = keep_path(store, relpath, entry.versions[-1].version, entry.id)
    else:  # new, or vacated by a renumbering: named like a new entry
        relpath = keep = _choose_name(store, book, entry)
    after = _next_version(entry, relpath, keep, store.feed.last_seq + 1, encoding)
    record = build_record(store.station, book, after, *_sources(store, after))
    return PublishPlan(after, record, in_place)


def publish(store: StoreBase, plan: PublishPlan, pdf_bytes: bytes) -> EntryVersion:
    """Publish ``pdf_bytes``, the finished PDF carrying ``plan.record``, as the planned
    version; returns that version."""
    _check_plan(store, plan, pdf_bytes)
    after = plan.entry
    sha, size = measure(pdf_bytes)
    newest = after.versions[-1]
    newest.sha256, newest.bytes = sha, size
    write_journal(store, newest)
    write_version_file(store, after, pdf_bytes, in_place=plan.in_place)
    faults.checkpoint("store.after_file")
    store.feed.append_event(RecordFile(plan.record, sha, size, newest.file).event())
    faults.checkpoint("store.after_feed")
    store.save_entry(after)
    clear_journal(store)
    log.info("published %s v%d as %s (%d bytes)", after.id, newest.version, newest.file, size)
    return newest


def _check_plan(store: StoreBase, plan: PublishPlan, pdf_bytes: bytes) -> None:
    """Refuse a plan overtaken by another change, or a PDF not carrying its record:
    the file must be the index's truth, or a reindex would rebuild something else."""
    stored = store.find_entry(plan.entry.id)
    before = len(stored.versions) if stored else 0
    if plan.version.seq != store.feed.last_seq + 1 or before != len(plan.entry.versions) - 1:
        raise StoreError("store.stale_plan", entry=plan.entry.number)
    if read_metadata(pdf_bytes) != plan.record:
        raise StoreError("store.record_mismatch", entry=plan.entry.number)


def _choose_name(store: StoreBase, book: Book, entry: Entry) -> PurePosixPath:
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
        log.warning("entry %s: name %s is taken, planned as %s", entry.id, base, name)
        if DUPLICATE_FLAG not in entry.flags:
            entry.flags.append(DUPLICATE_FLAG)
    return name


def _next_version(
    entry: Entry, relpath: PurePosixPath, keep: PurePosixPath, seq: int, encoding: str
) -> Entry:
    """``entry`` as it will be indexed after this publish (hash and size still unset)."""
    versions = [dataclasses.replace(v) for v in entry.versions]
    if versions and keep != relpath:
        # The previous current file is about to move (as a link) into _versions.
        versions[-1].file = str(keep)
    number = versions[-1].version + 1 if versions else 1
    versions.append(EntryVersion(number, str(relpath), "", 0, seq, utc_now(), encoding))
    return dataclasses.replace(entry, status=EntryStatus.PUBLISHED, versions=versions)


def _sources(store: StoreBase, entry: Entry) -> tuple[list[Capture], list[Page]]:
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


def keep_path(
    store: StoreBase, current: PurePosixPath, version: int, entry_id: str
) -> PurePosixPath:
    """Where version ``version`` of the file now at ``current`` is kept.

    Normally ``_versions/<stem>.v<N>.pdf``; when a renumbered or withdrawn entry
    once had the same name and left a different file there, the entry id is added.
    """
    plain = version_path(current, version)
    target, source = store.published_path(str(plain)), store.published_path(str(current))
    if not target.exists() or (source.exists() and os.path.samefile(source, target)):
        return plain
    return plain.with_name(f"{current.stem}.v{version}.{entry_id}{current.suffix}")


def vacate(store: StoreBase, entry: Entry) -> Entry:
    """Move the entry's current file into ``_versions``, freeing its name.

    The file is kept (hard link first, then the old name is removed); the index then
    names the kept file as the entry's newest version. Nothing goes to the feed: the
    next publish (under a new name) or a withdrawal says what changed.
    """
    if not entry.versions or is_version_path(PurePosixPath(entry.current_file)):
        return entry
    current = PurePosixPath(entry.current_file)
    if store.published_path(str(current)).exists():
        keep = keep_path(store, current, entry.versions[-1].version, entry.id)
        _keep_previous(store.published_path(str(current)), store.published_path(str(keep)))
    else:  # a vacate cut short after removing the old name
        keep = _kept_copy(store, current, entry)
    versions = [dataclasses.replace(v) for v in entry.versions]
    versions[-1].file = str(keep)
    moved = dataclasses.replace(entry, versions=versions)
    store.save_entry(moved)  # before the old name goes: recovery can finish from here
    old = store.published_path(str(current))
    with contextlib.suppress(FileNotFoundError):
        old.unlink()
    fsync_dir(old.parent)
    log.info("entry %s: %s kept as %s", entry.id, current, keep)
    return moved


def _kept_copy(store: StoreBase, current: PurePosixPath, entry: Entry) -> PurePosixPath:
    """The ``_versions`` file already holding the entry's current content."""
    newest = entry.versions[-1]
    plain = version_path(current, newest.version)
    for candidate in (plain, plain.with_name(f"{current.stem}.v{newest.version}.{entry.id}.pdf")):
        path = store.published_path(str(candidate))
        if path.is_file() and measure(path.read_bytes())[0] == newest.sha256:
            return candidate
    raise StoreError(path=str(store.published_path(str(current))), detail="the file is missing")


def write_version_file(store: StoreBase, entry: Entry, data: bytes, *, in_place: bool) -> None:
    """Write the newest version's file without ever overwriting kept content.

    ``in_place``: the new version replaces the current file under the same name, whose
    content is first kept as a link in ``_versions``.
    """
    newest = entry.versions[-1]
    current = store.published_path(newest.file)
    if not in_place:
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


def journal_path(store: StoreBase) -> Path:
    """The crash journal naming the publish in progress."""
    return store.db_dir / JOURNAL


def write_journal(store: StoreBase, version: EntryVersion) -> None:
    """Name the file about to be written, so recovery knows to look at it."""
    payload: dict[str, Any] = {"file": version.file, "seq": version.seq}
    write_atomic(journal_path(store), json.dumps(payload).encode())


def read_journal(store: StoreBase) -> dict[str, Any] | None:
    """The publish in progress when the station stopped, if any."""
    try:
        payload = json.loads(journal_path(store).read_bytes())
    except FileNotFoundError:
        return None
    except ValueError:
        log.warning("unreadable publish journal %s ignored", journal_path(store))
        return None
    return payload if isinstance(payload, dict) else None


def clear_journal(store: StoreBase) -> None:
    """The publish is complete: forget it."""
    with contextlib.suppress(FileNotFoundError):
        journal_path(store).unlink()
        fsync_dir(store.db_dir)
