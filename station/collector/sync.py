"""One pass over one station's feed into one destination folder.

The order of every file's journey: download into ``.partial/`` (verified, fsynced),
move the entry's older file aside into ``_replaced/``, rename the new file to its
mirrored name (never over an existing file), fsync the directories, and only then
record the files and the new cursor in one transaction and acknowledge them. A crash
at any point leaves either a ``.part`` to resume or a complete file that the next pass
recognises by its hash and adopts without downloading it again.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from station.collector.client import StationClient
from station.collector.console import Console
from station.collector.download import download, sha256_of
from station.collector.durable import fsync_dir, move_aside, rename_new
from station.collector.errors import (
    HttpStatusError,
    ProtocolError,
    StateError,
    StoppedError,
    TransferError,
)
from station.collector.feed import parse_event, parse_page
from station.collector.paths import (
    PARTIAL_DIR,
    REPLACED_DIR,
    WITHDRAWN_DIR,
    local_path,
    unsafe_reason,
    versioned_name,
)
from station.collector.prefetch import Prefetcher
from station.collector.state import Batch, LocalFile, Moved, Pairing, State, dest_key
from station.core.models import BYTES_PER_KB, FeedEvent, FeedKind

log = logging.getLogger(__name__)

PAGE_SIZE = 500
ACK_BATCH = 500


@dataclass
class PassResult:
    """What a pass did, for the console and ``once``'s exit code."""

    collected: int = 0
    replaced: int = 0
    withdrawn: int = 0
    failed: int = 0
    pending: int = 0
    total: int = 0


@dataclass
class _Work:
    """A stretch of the pass not yet committed to the state."""

    batch: Batch = field(default_factory=lambda: Batch(files=[], moved=[], resolved=[], failed=[]))
    dirs: set[Path] = field(default_factory=set)


class StationPass:
    """Collect everything new from one paired station into ``dest``."""

    def __init__(
        self,
        state: State,
        pairing: Pairing,
        client: StationClient,
        dest: Path,
        *,
        stop: threading.Event,
        place_lock: threading.Lock,
        say: Console,
        page_size: int = PAGE_SIZE,
        parallel: int = 1,
    ) -> None:
        self.state = state
        self.pairing = pairing
        self.client = client
        self.dest = dest
        self.dest_key = dest_key(dest)
        self.stop = stop
        self.place_lock = place_lock
        self.say = say
        self.page_size = page_size
        self.parallel = parallel
        self.prefetch: Prefetcher | None = None
        self.result = PassResult()
        # Files placed in this pass but not committed yet, by entry and by name.
        self._placed: dict[str, LocalFile] = {}
        self._names: dict[str, str] = {}

    def run(self) -> PassResult:
        """Acknowledge leftovers, retry failures, then follow the feed to its end."""
        self._ack_backlog()
        self._retry_pending()
        self._follow_feed()
        self._ack_backlog()
        counts = self.state.counts(self.pairing.id, self.dest_key)
        self.result.pending, self.result.total = counts["pending"], counts["files"]
        return self.result

    # -- the feed ---------------------------------------------------------------------

    def _follow_feed(self) -> None:
        cursor = self.state.cursor(self.pairing.id, self.dest_key)
        restarted = False
        while True:
            data = self.client.get(f"/feed?since={cursor}&limit={self.page_size}")
            try:
                page = parse_page(data, cursor)
            except ValueError as exc:
                raise ProtocolError(station=self.client.label, detail=str(exc)) from exc
            if page.last_seq < cursor and not restarted:
                # The station's feed is behind us: restored from a backup. Walk it again;
                # files already here are recognised by their hash.
                log.warning("%s: feed ends at %d, below our cursor %d; rereading it",
                            self.client.label, page.last_seq, cursor)  # fmt: skip
                self.state.reset_cursor(self.pairing.id, self.dest_key)
                cursor, restarted = 0, True
                continue
            if page.items:
                self._take_page(page.items)
                cursor = page.items[-1].seq
            if not page.more or not page.items:
                return

    def _take_page(self, events: list[FeedEvent]) -> None:
        # Within a page only the newest event of each entry matters: a file replaced
        # before this PC saw it is not fetched just to be moved aside.
        newest = {event.entry_id: event.seq for event in events}
        chosen = [event for event in events if newest[event.entry_id] == event.seq]
        work = _Work()
        try:
            if self.parallel > 1:
                self.prefetch = Prefetcher(self.client, self.stop, self.parallel)
                self.prefetch.start([(e, self._part(e)) for e in chosen if self._needs_download(e)])
            for event in events:
                if newest[event.entry_id] == event.seq:
                    self._take(event, work)
                work.batch.cursor = event.seq
        finally:
            if self.prefetch is not None:
                self.prefetch.close()
                self.prefetch = None
            self._commit(work)

    def _part(self, event: FeedEvent) -> Path:
        return self.dest / PARTIAL_DIR / f"{event.entry_id}.v{event.version}.part"

    def _needs_download(self, event: FeedEvent) -> bool:
        """A cheap forecast of :meth:`_take` needing the file (it decides for itself)."""
        if event.kind is FeedKind.WITHDRAWN or unsafe_reason(event.file) is not None:
            return False
        known = self._known(event.entry_id)
        if known is not None and not known.withdrawn and known.sha256 == event.sha256:
            return False
        if known is not None and not known.withdrawn and known.version > event.version:
            return False
        target = local_path(self.dest, event.file)
        try:
            if target.stat().st_size != event.bytes:
                return True
        except OSError:
            return True
        return sha256_of(target) != event.sha256

    def _retry_pending(self) -> None:
        pending = self.state.pending(self.pairing.id, self.dest_key)
        if not pending:
            return
        work = _Work()
        try:
            for item in pending:
                try:
                    event = parse_event(item.event)
                except ValueError:
                    log.warning("dropping unreadable pending event %r", item.event)
                    assert work.batch.resolved is not None
                    work.batch.resolved.append(item.entry_id)
                    continue
                self._take(event, work)
        finally:
            self._commit(work)

    def _commit(self, work: _Work) -> None:
        """Make the directories durable, then record everything in one transaction."""
        try:
            for directory in sorted(work.dirs):
                fsync_dir(directory)
        except OSError as exc:
            raise StateError("collect.dest", path=str(self.dest), detail=str(exc)) from exc
        self.state.commit(self.pairing.id, self.dest_key, work.batch)
        self._placed.clear()
        self._names.clear()

    # -- one event ----------------------------------------------------------------------

    def _known(self, entry_id: str) -> LocalFile | None:
        placed = self._placed.get(entry_id)
        if placed is not None:
            return placed
        return self.state.local_file(self.pairing.id, self.dest_key, entry_id)

    def _take(self, event: FeedEvent, work: _Work) -> None:
        batch = work.batch
        assert batch.files is not None and batch.failed is not None and batch.resolved is not None
        if self.stop.is_set():
            raise StoppedError()
        if event.kind is FeedKind.WITHDRAWN:
            self._withdraw(event, work)
            return
        reason = unsafe_reason(event.file)
        if reason is not None:
            self.say.warn("collect.bad_file", file=event.file, detail=reason)
            batch.failed.append((event.to_dict(), f"unsafe file name: {reason}"))
            self.result.failed += 1
            return
        known = self._known(event.entry_id)
        if (
            known is not None
            and not known.withdrawn
            and (known.sha256 == event.sha256 or known.version > event.version)
        ):
            batch.resolved.append(event.entry_id)
            return
        try:
            placed = self._place(event, known, work)
        except (TransferError, HttpStatusError, StateError) as exc:
            # One file the station cannot serve (404, or 500 "file_damaged"), or that
            # cannot be put in place here (a viewer on Windows holding the old one open),
            # must not hold up the others: it waits in "pending" and is tried on every
            # pass. Only "slow down" (429) and a broken state folder stop the pass.
            if isinstance(exc, HttpStatusError) and exc.status == 429:
                raise
            if isinstance(exc, StateError) and exc.key != "collect.dest":
                raise
            self.say.warn("collect.file_failed", file=event.file, detail=exc.message(self.say.lang))
            batch.failed.append((event.to_dict(), exc.message("en")))
            self.result.failed += 1
            return
        batch.files.append(placed)
        batch.resolved.append(event.entry_id)
        self._placed[event.entry_id] = placed
        self._names[placed.path.casefold()] = event.entry_id

    def _place(self, event: FeedEvent, known: LocalFile | None, work: _Work) -> LocalFile:
        """Get the file of ``event`` to its mirrored name; return what is now there."""
        name = self._name_for(event)
        target = local_path(self.dest, name)
        placed = LocalFile(
            event.entry_id, event.version, event.sha256, event.bytes, name,
            event.book, event.number, event.seq,
        )  # fmt: skip
        if target.is_file() and sha256_of(target) == event.sha256:
            log.info("%s already holds %s v%d", name, event.entry_id, event.version)
            if known is not None and known.path.casefold() != name.casefold():
                with self.place_lock:
                    self._move_old(event, known, None, work)
            return placed
        part = self._part(event)
        try:
            if self.prefetch is None or not self.prefetch.wait(event):
                download(self.client, event, part, self.stop)
        except TransferError:
            # One more try from nothing (the partial was emptied) before giving up.
            log.warning("%s: %s arrived wrong, downloading it again", self.client.label, name)
            download(self.client, event, part, self.stop)
        with self.place_lock:
            aside = self._move_old(event, known, target, work)
            try:
                rename_new(part, target)
            except OSError as exc:
                raise StateError("collect.dest", path=str(target), detail=str(exc)) from exc
        work.dirs.add(target.parent)
        kb = max(1, round(event.bytes / BYTES_PER_KB))
        if aside is not None:
            self.result.replaced += 1
            self.say("collect.replaced", file=name, version=event.version, aside=aside)
        else:
            self.result.collected += 1
            self.say("collect.got", file=name, version=event.version, kb=kb)
        return placed

    def _name_for(self, event: FeedEvent) -> str:
        """The mirrored name, unless another entry already owns it here (then a variant)."""
        owner_entry = self._names.get(event.file.casefold())
        owner = (
            (self.pairing.id, owner_entry)
            if owner_entry is not None
            else self.state.path_owner(self.dest_key, event.file)
        )
        if owner is None or owner == (self.pairing.id, event.entry_id):
            return event.file
        label = event.entry_id if owner[0] == self.pairing.id else self.pairing.id
        name = versioned_name(event.file, label)
        log.warning(
            "%s is another entry's file here; %s goes to %s", event.file, event.entry_id, name
        )
        return name

    def _move_old(
        self, event: FeedEvent, known: LocalFile | None, target: Path | None, work: _Work
    ) -> str | None:
        """Move the entry's previous file, and anything else at ``target``, aside."""
        assert work.batch.moved is not None
        aside: str | None = None
        if known is not None and not known.withdrawn:
            old = local_path(self.dest, known.path)
            if old.is_file():
                where = self._aside(
                    old, REPLACED_DIR, versioned_name(known.path, f"v{known.version}")
                )
                work.batch.moved.append(
                    Moved(event.entry_id, known.version, known.path, where, "replaced")
                )
                aside = where
        if target is not None and target.exists():
            relpath = target.relative_to(self.dest).as_posix()
            where = self._aside(target, REPLACED_DIR, versioned_name(relpath, "old"))
            log.warning("%s held a file this PC did not collect; kept as %s", relpath, where)
            work.batch.moved.append(Moved(event.entry_id, 0, relpath, where, "displaced"))
            aside = aside or where
        return aside

    def _aside(self, source: Path, folder: str, relname: str) -> str:
        try:
            moved = move_aside(source, local_path(self.dest / folder, relname))
        except OSError as exc:
            raise StateError("collect.dest", path=str(source), detail=str(exc)) from exc
        return moved.relative_to(self.dest).as_posix()

    def _withdraw(self, event: FeedEvent, work: _Work) -> None:
        batch = work.batch
        assert batch.files is not None and batch.moved is not None and batch.resolved is not None
        batch.resolved.append(event.entry_id)
        known = self._known(event.entry_id)
        if known is None or known.withdrawn or known.version > event.version:
            return
        old = local_path(self.dest, known.path)
        if old.is_file():
            with self.place_lock:
                where = self._aside(
                    old, WITHDRAWN_DIR, versioned_name(known.path, f"v{known.version}")
                )
            batch.moved.append(Moved(event.entry_id, known.version, known.path, where, "withdrawn"))
            self.say("collect.withdrawn", file=known.path, aside=where)
        known.withdrawn = True
        batch.files.append(known)
        self._placed[event.entry_id] = known
        self.result.withdrawn += 1

    # -- acknowledgements ------------------------------------------------------------------

    def _ack_backlog(self) -> None:
        while True:
            files = self.state.unacked(self.pairing.id, self.dest_key, ACK_BATCH)
            if not files:
                return
            self._ack(files)
            if len(files) < ACK_BATCH:
                return

    def _ack(self, files: list[LocalFile]) -> None:
        items = [{"entry_id": f.entry_id, "version": f.version, "sha256": f.sha256} for f in files]
        answer: Any = self.client.call("POST", "/acks", {"items": items})[1]
        rejected = answer.get("rejected", []) if isinstance(answer, dict) else []
        if rejected:
            log.warning("%s rejected acknowledgements: %r", self.client.label, rejected[:20])
        # Rejections are not retried: the station has said it will not take them.
        self.state.mark_acked(
            self.pairing.id, self.dest_key, [(f.entry_id, f.version) for f in files]
        )
