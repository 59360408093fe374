"""The hot folder: pages that other programs save (scan-to-folder, camera apps).

A passive source: nobody presses "capture"; files arrive. Like OctoPrint's watched
folder, a file is taken only once it has stopped growing (size and modification time
unchanged for ``settle_seconds``), and a file that cannot be used is renamed aside
with its reason rather than crashing anything. The life of one file::

    seen ─(unchanged for settle_seconds)─► claimed: renamed into .taking/
      ─► decoded in full ─► handed to intake (raw copy fsynced) ─► renamed into done/
                       └──► not an image, damaged, too large, a bomb: rejected/ + reason
    a link, FIFO, device, socket, another user's file or a name with control
    characters is never opened: renamed into rejected/ as itself + reason, or left
    in place with ``<name>.reason.txt`` beside it when no rename reaches rejected/

Nothing is ever deleted, and a file reaches ``done/`` only after intake holds its
own fsynced copy. A claimed file left in ``.taking/`` by a crash is checked against
intake at the next start: moved to ``done/`` if intake has it, otherwise put back.

watchdog's observer wakes the loop as soon as something changes; a full rescan every
``rescan_seconds`` catches what notifications miss (network shares), and the
polling observer can replace inotify altogether. Files present at start-up are found
by the first scan.
"""

from __future__ import annotations

import logging
import math
import os
import stat
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch
from watchdog.observers.polling import PollingObserver

from station.capture.drivers.base import (
    Capabilities,
    CaptureContext,
    CapturedImage,
    DeviceInfo,
    DeviceState,
    Driver,
    DriverEvent,
    EventCallback,
)
from station.capture.drivers.folder.files import (
    NotMovable,
    ignored,
    move_unique,
    read_bounded,
    refusal,
    write_reason,
)
from station.capture.drivers.folder.settings import parse_options
from station.capture.image_file import captured_from_bytes, utc_from_timestamp
from station.core import messages
from station.core.errors import DeviceError, ImageError, StationError
from station.core.printable import printable

log = logging.getLogger(__name__)

#: A file that cannot be moved aside keeps its reason beside it, under this suffix.
REASON_SUFFIX = ".reason.txt"
#: Claimed files wait here (inside the hot folder, so the rename is atomic).
CLAIM_DIR = ".taking"
#: After a notification, wait this long for the burst of further ones to pass.
COALESCE_SECONDS = 0.05
#: The shortest pause between two looks at the folder.
MIN_WAIT_SECONDS = 0.02
#: How long stopping waits for a file being handed over.
STOP_TIMEOUT = 30.0


@dataclass
class Sink:
    """Where the hot folder hands pages; the station provides it.

    ``deliver`` returns once intake has the page durably and raises StationError
    when it cannot take it; ``ready`` is False while no book is open; ``holds`` tells
    whether intake already has these exact bytes (after a crash mid-hand-over).
    """

    deliver: Callable[[CapturedImage], object]
    ready: Callable[[], bool] = lambda: True
    holds: Callable[[bytes], bool] = lambda data: False


@dataclass
class _Seen:
    """A file as last seen, and when it last changed (monotonic seconds)."""

    size: int
    mtime_ns: int
    refused: ImageError | None  # never to be opened: a link, FIFO, device, another's file
    since: float
    not_before: float = 0.0  # retry no earlier than this
    damaged: ImageError | None = None  # failed to decode at this size and time
    problem: str = ""  # why it could not be handled last time (I/O, intake refused)


@dataclass
class Counts:
    """What the folder has done since the station started."""

    taken: int = 0
    rejected: int = 0
    waiting: int = 0
    last_rejected: str = ""


class _Wake(FileSystemEventHandler):
    """Turns watchdog notifications into a wake-up of the folder loop."""

    def __init__(self, wake: Callable[[], None]) -> None:
        self._wake = wake

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in ("opened", "closed_no_write"):
            self._wake()


class HotFolder(Driver):
    """A watched folder as a capture device; see the module docstring."""

    kind: ClassVar[str] = "folder"

    def __init__(
        self,
        options: Mapping[str, Any],
        on_event: EventCallback | None = None,
        context: CaptureContext | None = None,
    ) -> None:
        super().__init__(options, on_event, context)
        self.settings = parse_options(options)
        self.counts = Counts()
        self._seen: dict[str, _Seen] = {}
        self._sink: Sink | None = None
        self._lock = threading.Lock()  # one look at the folder at a time
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._observer: BaseObserver | None = None
        self._watch: ObservedWatch | None = None
        self._reported: tuple[Any, ...] = ()
        self._list_error = ""

    # the Driver interface ---------------------------------------------------
    @classmethod
    def probe(cls) -> list[DeviceInfo]:
        """A hot folder is configured, not discovered: see :meth:`probe_folder`."""
        return []

    @classmethod
    def probe_folder(cls, path: Path) -> list[DeviceInfo]:
        """The configured folder as a device when it exists."""
        if not path.is_dir():
            return []
        label = messages.render("folder.label", "vi", path=path)
        return [DeviceInfo(cls.kind, str(path), label)]

    @property
    def device(self) -> str:
        return str(self.settings.path)

    @property
    def folder(self) -> Path:
        return self.settings.path

    def capabilities(self) -> Capabilities:
        return Capabilities(sources=("folder",), resolutions=(self.settings.dpi,))

    def open(self) -> None:
        """Check the folder is there; IDLE, or OFFLINE with DeviceError if not."""
        if not self.folder.is_dir():
            self._report(force=True)
            raise DeviceError("folder.missing", path=self.folder)
        self._report(force=True)

    def close(self) -> None:
        """Stop watching (finishing the file in hand) and go OFFLINE."""
        self.stop_watching()
        self._set_state(DeviceState.OFFLINE)

    def capture(self, count: int | None = 1) -> Iterator[CapturedImage]:
        """A hot folder has nothing to press: pages arrive as files."""
        raise DeviceError("folder.passive", device=self.device)

    # watching ------------------------------------------------------------------
    def watch(self, sink: Sink) -> None:
        """Start watching in the background, handing each good page to ``sink``."""
        if self._thread is not None:
            return
        self.attach(sink)
        self._stop.clear()
        kind = PollingObserver if self.settings.polling else Observer
        self._observer = kind(timeout=min(1.0, self.settings.rescan_seconds))
        self._observer.start()
        self._thread = threading.Thread(target=self._run, name="station-hotfolder", daemon=True)
        self._thread.start()

    def attach(self, sink: Sink) -> None:
        """Hand pages to ``sink`` from now on (:meth:`poll` may then be called directly)."""
        self._sink = sink
        self._report(force=True)

    def stop_watching(self) -> None:
        """Stop the loop and the observer; every thread is joined."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT)
            self._thread = None
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(STOP_TIMEOUT)
            self._observer = None
            self._watch = None

    def wake(self) -> None:
        """Look at the folder now (a book was opened, a file arrived)."""
        self._wake.set()

    def _run(self) -> None:
        try:
            self.rescue_claimed()
        except OSError:
            log.exception("could not check %s", self.folder / CLAIM_DIR)
        while not self._stop.is_set():
            try:
                delay = self.poll()
            except Exception:  # the loop must outlive any bug; files stay where they are
                log.exception("hot folder %s: unexpected error", self.folder)
                delay = self.settings.rescan_seconds
            if self._wake.wait(max(delay, MIN_WAIT_SECONDS)):
                self._wake.clear()
                self._stop.wait(COALESCE_SECONDS)

    def _keep_watch(self) -> None:
        """(Re)attach the observer when the folder is there; drop it when it is gone."""
        observer = self._observer
        if observer is None:
            return
        present = self.folder.is_dir()
        alive = any(emitter.is_alive() for emitter in observer.emitters)
        if self._watch is not None and (not present or not alive):
            observer.unschedule_all()
            self._watch = None
        if present and self._watch is None:
            try:
                self._watch = observer.schedule(_Wake(self.wake), str(self.folder))
            except OSError as exc:  # e.g. out of inotify watches: rescans still work
                log.warning("cannot watch %s (%s); relying on rescans", self.folder, exc)

    # one look at the folder -----------------------------------------------------
    def poll(self, now: float | None = None) -> float:
        """Look at the folder once; return how many seconds until the next look."""
        with self._lock:
            now = time.monotonic() if now is None else now
            self._keep_watch()
            if not self.folder.is_dir():
                self._seen.clear()
                self._report()
                return self.settings.rescan_seconds
            due, next_due = self._track(now)
            if self._sink is None or not self._sink.ready():
                self.counts.waiting = len(self._seen)
                self._report()
                return min(next_due - now, self.settings.rescan_seconds)
            self.counts.waiting = 0
            for name in due:
                if self._stop.is_set():
                    break
                self._handle(name, now)
            self._report()
            return min(next_due - now, self.settings.rescan_seconds)

    def _track(self, now: float) -> tuple[list[str], float]:
        """Update what is seen; return the settled files and when the next one settles."""
        names = set(self._list())
        for gone in set(self._seen) - names:
            del self._seen[gone]
        due: list[str] = []
        next_due = math.inf
        for name in sorted(names):
            try:
                info = os.lstat(self.folder / name)
            except FileNotFoundError:
                self._seen.pop(name, None)
                continue
            seen = self._seen.get(name)
            if seen is None or (seen.size, seen.mtime_ns) != (info.st_size, info.st_mtime_ns):
                refused = refusal(info, name, self.settings.owners)
                self._seen[name] = _Seen(info.st_size, info.st_mtime_ns, refused, now)
                next_due = min(next_due, now + self.settings.settle_seconds)
                continue
            ripe = max(seen.since + self.settings.settle_seconds, seen.not_before)
            if now >= ripe:
                due.append(name)
            else:
                next_due = min(next_due, ripe)
        return due, next_due

    def _list(self) -> Iterator[str]:
        try:
            entries = list(os.scandir(self.folder))
        except OSError as exc:
            if str(exc) != self._list_error:  # say it once, not at every rescan
                log.warning("cannot list %s: %s", self.folder, exc)
            self._list_error = str(exc)
            return
        self._list_error = ""
        # A file that could not be moved aside has its reason beside it: leave it be.
        names = {entry.name for entry in entries}
        for entry in entries:
            if ignored(entry.name) or entry.is_dir(follow_symlinks=False):
                continue
            if entry.name + REASON_SUFFIX in names:
                continue
            yield entry.name

    # one settled file -------------------------------------------------------------
    def _handle(self, name: str, now: float) -> None:
        seen = self._seen[name]
        try:
            self._take(name, seen, now)
        except OSError as exc:
            # Permissions, a share gone mid-way: the file stays; try again later.
            log.warning(
                "hot folder %s: cannot handle %s: %s", self.folder, printable(name), printable(exc)
            )
            self._retry_later(name, seen, printable(exc), now)
        except Exception as exc:  # a bug with one file must not hold up the others
            log.exception("hot folder %s: unexpected error with %s", self.folder, printable(name))
            self._retry_later(name, seen, repr(exc), now)

    def _retry_later(self, name: str, seen: _Seen, problem: str, now: float) -> None:
        seen.problem = problem
        seen.not_before = now + self.settings.rescan_seconds
        self._seen.setdefault(name, seen)

    def _take(self, name: str, seen: _Seen, now: float) -> None:
        source = self.folder / name
        if seen.damaged is not None:
            self._reject(source, name, seen.damaged)
            return
        if seen.refused is not None:
            self._reject(source, name, seen.refused)
            return
        if seen.size > self.settings.max_bytes:
            self._reject(source, name, self._too_big(name, seen.size))
            return
        if seen.size == 0:  # some programs create the file first and fill it later
            self._damaged(name, seen, ImageError("image.corrupt", source=name, detail="empty"))
            return
        try:
            claimed = move_unique(source, self.folder / CLAIM_DIR, name)
        except FileNotFoundError:
            self._seen.pop(name, None)  # gone meanwhile
            return
        self._seen.pop(name, None)
        self._process_claimed(claimed, name, seen, now)

    def _process_claimed(self, claimed: Path, name: str, seen: _Seen, now: float) -> None:
        assert self._sink is not None
        try:
            data = read_bounded(claimed, self.settings.max_bytes, self.settings.owners)
            if len(data) > self.settings.max_bytes:
                raise self._too_big(name, len(data))
            captured = captured_from_bytes(
                data,
                name,
                source="folder",
                device=self.device,
                default_dpi=self.settings.dpi,
                captured_at=utc_from_timestamp(seen.mtime_ns / 1e9),
            )
        except ImageError as exc:
            if exc.key == "image.corrupt" and now < seen.since + self.settings.damaged_wait_seconds:
                self._put_back(claimed, name, seen, exc)
            else:
                self._reject(claimed, name, exc)
            return
        try:
            self._sink.deliver(captured)
        except Exception as exc:  # disk full, no book after all, a bug: keep it for later
            if isinstance(exc, StationError):
                problem = exc.message("en")
                log.warning("hot folder: %s waits: %s", printable(name), problem)
            else:
                problem = repr(exc)
                log.exception("hot folder: handing over %s failed", printable(name))
            retry_at = now + self.settings.rescan_seconds
            again = self._put_back(claimed, name, seen, None, retry_at)
            again.problem = problem
            return
        done = move_unique(claimed, self.settings.done_dir, name, self.settings.owners)
        self.counts.taken += 1
        log.info("hot folder: took %s (moved to %s)", printable(name), printable(done))
        self._emit_progress(name)

    def _put_back(
        self,
        claimed: Path,
        name: str,
        seen: _Seen,
        damaged: ImageError | None,
        retry_at: float = 0.0,
    ) -> _Seen:
        """Return a claimed file to the folder to be looked at again later."""
        back = move_unique(claimed, self.folder, name)
        again = _Seen(seen.size, seen.mtime_ns, seen.refused, seen.since)
        self._seen[back.name] = again
        if damaged is not None:
            self._damaged(back.name, again, damaged)
        else:
            again.not_before = retry_at
        return again

    def _damaged(self, name: str, seen: _Seen, error: ImageError) -> None:
        """Give a file that does not decode until ``damaged_wait_seconds`` to complete."""
        seen.damaged = error
        seen.not_before = seen.since + self.settings.damaged_wait_seconds
        log.info("hot folder: %s does not decode yet; waiting for more data", printable(name))

    def _too_big(self, name: str, size: int) -> ImageError:
        size_mb = round(size / (1024 * 1024), 1)
        return ImageError(
            "folder.too_big", source=name, size_mb=size_mb, limit_mb=self.settings.max_file_mb
        )

    def _reject(self, path: Path, name: str, error: StationError) -> None:
        """Move a file aside with its reason; it is never deleted (nor read, if refused)."""
        try:
            target = move_unique(path, self.settings.rejected_dir, name, self.settings.owners)
        except FileNotFoundError:
            self._seen.pop(name, None)
            return
        except NotMovable:
            self._leave(path, name, error)
            return
        self._seen.pop(name, None)
        try:
            write_reason(target, error)
        except OSError as exc:
            log.error("cannot write the reason beside %s: %s", printable(target), exc)
        self._count_rejected(name, error, printable(target))

    def _leave(self, path: Path, name: str, error: StationError) -> None:
        """Leave a file no rename can take aside in the hot folder, its reason beside it.

        The rejected folder is on another file system and this is no file to copy (a
        link, a FIFO, another user's file): it stays, and the reason file beside it
        tells the loop (now and after a restart) to leave it alone.
        """
        if path.parent != self.folder:  # claimed: back first (a rename on one file system)
            path = move_unique(path, self.folder, name)
        self._seen.pop(name, None)
        write_reason(path, error)
        self._count_rejected(name, error, "its place (rejected folder on another file system)")

    def _count_rejected(self, name: str, error: StationError, where: str) -> None:
        self.counts.rejected += 1
        self.counts.last_rejected = printable(name)
        log.warning("hot folder: %s moved to %s: %s", printable(name), where, error.message("en"))
        self._emit_error(name, error)

    # recovery ------------------------------------------------------------------------
    def rescue_claimed(self) -> list[Path]:
        """Settle files a crash left in ``.taking/``: done if intake has them, else back."""
        claim_dir = self.folder / CLAIM_DIR
        if not claim_dir.is_dir():
            return []
        moved = []
        for leftover in sorted(claim_dir.iterdir()):
            info = leftover.lstat()
            if ignored(leftover.name) or stat.S_ISDIR(info.st_mode):
                continue
            if refusal(info, leftover.name, self.settings.owners) is not None:
                moved.append(move_unique(leftover, self.folder, leftover.name))  # refused there
                continue
            data = read_bounded(leftover, self.settings.max_bytes, self.settings.owners)
            delivered = self._sink is not None and self._sink.holds(data)
            target_dir = self.settings.done_dir if delivered else self.folder
            moved.append(move_unique(leftover, target_dir, leftover.name))
            log.warning(
                "hot folder: %s was left claimed; moved to %s",
                printable(leftover),
                printable(moved[-1]),
            )
        return moved

    # status --------------------------------------------------------------------------
    def _report(self, force: bool = False) -> None:
        """Emit the folder's state when it changed (or when ``force``)."""
        counts = self.counts
        values: dict[str, Any] = {
            "path": str(self.folder),
            "taken": counts.taken,
            "rejected": counts.rejected,
            "waiting": counts.waiting,
            "last_rejected": counts.last_rejected,
        }
        problem = next((seen.problem for seen in self._seen.values() if seen.problem), "")
        if not self.folder.is_dir():
            state, key = DeviceState.OFFLINE, "folder.missing"
        elif problem:
            state, key = DeviceState.ERROR, "folder.problem"
            values["detail"] = problem
        elif counts.waiting:
            state, key = DeviceState.IDLE, "folder.waiting_book"
        else:
            state, key = DeviceState.IDLE, "folder.watching"
        snapshot = (state, key, sorted(values.items()))
        if force or snapshot != self._reported:
            self._reported = snapshot
            self._set_state(state, key, **values)

    def _emit_progress(self, name: str) -> None:
        self._emit(DriverEvent("progress", self.device, None, "", {"taken": name}))

    def _emit_error(self, name: str, error: StationError) -> None:
        values = {"file": printable(name), "reason_key": error.key, **error.values}
        self._emit(DriverEvent("error", self.device, None, error.key, values))
