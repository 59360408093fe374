"""Capturing off the request thread, one capture at a time for the whole station.

The touch screen's button, the pedal and the old status page all start captures
through :meth:`CaptureRunner.start`, which returns a :class:`CaptureJob` at once and
runs the device on a thread of its own. One lock covers the station: a second start
while a capture runs raises :class:`StationBusyError`, so a double tap or a nervous
pedal never takes the same page twice. Each page is saved by intake before the next
is fed (``Station.capture``), and progress goes out as ``capture`` events.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from station.capture.drivers.base import CaptureContext, Driver, DriverEvent
from station.capture.intake import Job
from station.core import messages
from station.core.errors import StationBusyError, StationError, UsageError
from station.core.events import EventBus
from station.core.messages import N_
from station.core.models import Book, new_id, utc_now

log = logging.getLogger(__name__)


MAX_COUNT = 500
REQUIRE_SHIFT = "require_shift"  # station setting: captures need a shift in progress


class _Cancelled(Exception):
    """Raised between pages to end a capture the operator cancelled."""


def rendered(key: str, values: dict[str, Any]) -> dict[str, str]:
    """``{"key", "vi", "en"}`` for a message."""
    return {
        "key": key,
        **{lang: messages.render(key, lang, **values) for lang in messages.LANGUAGES},
    }


@dataclass
class CaptureJob:
    """One capture run: what it was asked for and how far it got."""

    id: str
    book: str
    count: int | None  # None: until the feeder is empty
    operator: str
    source: str = "ui"
    state: str = "running"  # running, finished, failed, cancelled
    pages_saved: int = 0
    capture_ids: list[str] = field(default_factory=list)
    error: StationError | None = None
    started_at: str = field(default_factory=utc_now)
    finished_at: str = ""
    _done: threading.Event = field(default_factory=threading.Event, repr=False)
    _callbacks: list[Callable[[CaptureJob], None]] = field(default_factory=list, repr=False)
    _cancel: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def running(self) -> bool:
        return self.state == "running"

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the job ends; False if ``timeout`` seconds passed first."""
        return self._done.wait(timeout)

    def add_done_callback(self, callback: Callable[[CaptureJob], None]) -> None:
        """Call ``callback(job)`` when the job ends (at once if it has)."""
        if self._done.is_set():
            callback(self)
        else:
            self._callbacks.append(callback)

    def to_dict(self) -> dict[str, Any]:
        error = None
        if self.error is not None:
            error = rendered(self.error.key, dict(self.error.values))
        return {
            "job_id": self.id,
            "book": self.book,
            "count": self.count,
            "operator": self.operator,
            "source": self.source,
            "state": self.state,
            "running": self.running,
            "pages_saved": self.pages_saved,
            "capture_ids": list(self.capture_ids),
            "error": error,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
        }


class CaptureHost(Protocol):
    """What capture jobs need of the running station (the application layer's
    :class:`station.app.station.Station` provides it)."""

    events: EventBus

    @property
    def current_book(self) -> str | None: ...

    def capture_operator(self, operator: str) -> str:
        """The name to record for ``operator`` ("" : the shift's); raises UsageError
        when the admin requires a shift and none is running."""
        ...

    def check_space(self) -> None:
        """Raise DiskFullError while the disk is below its reserve (nothing is fed)."""
        ...

    def get_book(self, key: str) -> Book: ...

    def make_driver(
        self, kind: str | None = None, context: CaptureContext | None = None, **options: Any
    ) -> Driver: ...

    def capture(
        self,
        driver: Driver,
        book: Book,
        count: int | None,
        operator: str = "",
        on_saved: Callable[[Job], None] | None = None,
    ) -> list[Job]: ...

    def release(self, driver: Driver) -> None: ...

    def device_status(self) -> dict[str, Any]: ...

    def announce_storage(self) -> None: ...


class CaptureRunner:
    """Runs capture jobs for one station, one at a time."""

    def __init__(self, station: CaptureHost) -> None:
        self.station = station
        #: Held for the whole of a capture. Anything else that uses the device alone
        #: (the setup wizard's test capture) takes it too, without blocking.
        self.lock = threading.Lock()
        self._job: CaptureJob | None = None
        self._thread: threading.Thread | None = None
        self._driver: Driver | None = None

    @property
    def job(self) -> CaptureJob | None:
        """The running job, or the last one."""
        return self._job

    def start(self, count: int | None = 1, operator: str = "", source: str = "ui") -> CaptureJob:
        """Start capturing ``count`` pages into the open book; returns at once."""
        if count is not None and (
            isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT
        ):
            raise UsageError("capture.bad_count", limit=MAX_COUNT)
        if not self.lock.acquire(blocking=False):
            raise StationBusyError("capture.busy")
        try:
            job = self._new_job(count, operator, source)
            thread = threading.Thread(
                target=self._run, args=(job,), name="station-capture", daemon=True
            )
            self._job, self._thread = job, thread
            thread.start()
        except BaseException:
            self.lock.release()
            raise
        return job

    def _new_job(self, count: int | None, operator: str, source: str) -> CaptureJob:
        station = self.station
        book = station.current_book
        if book is None:
            raise UsageError("capture.no_book")
        name = station.capture_operator(operator)
        station.check_space()
        return CaptureJob(new_id("j"), book, count, name, source)

    def cancel(self) -> bool:
        """Stop the running capture after the page being fed; False when none runs."""
        job, driver = self._job, self._driver
        if job is None or not job.running:
            return False
        job._cancel.set()
        if driver is not None:
            driver.cancel()
        return True

    def stop(self, timeout: float = 60.0) -> None:
        """Cancel a running capture and wait for its thread (the station is stopping)."""
        self.cancel()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def state(self) -> dict[str, Any]:
        """{running, job_id, pages_saved, count, error{key, vi, en}, device, job}."""
        job = self._job
        data = job.to_dict() if job is not None else None
        return {
            "running": bool(job and job.running),
            "job_id": job.id if job else None,
            "pages_saved": job.pages_saved if job else 0,
            "count": job.count if job else None,
            "error": data["error"] if data else None,
            "device": self.station.device_status(),
            "job": data,
        }

    def on_device_event(self, event: DriverEvent) -> None:
        """Forward a driver's progress to the running job's listeners."""
        job = self._job
        if event.kind == "progress" and job is not None and job.running:
            self._emit(job, "progress", event.message_key, dict(event.values))

    # -- the capture thread ---------------------------------------------------------

    def _run(self, job: CaptureJob) -> None:
        station = self.station
        self._driver = None
        try:
            self._emit(job, "started", "capture.started", {"book": job.book})
            book = station.get_book(job.book)
            # The book goes as context: a simulator renders it, a real device ignores it.
            context = CaptureContext(profile=book.profile, first_entry=book.next_entry)
            driver = station.make_driver(context=context)
            self._driver = driver
            try:
                station.capture(
                    driver, book, job.count, job.operator, on_saved=lambda j: self._saved(job, j)
                )
            finally:
                self._driver = None
                station.release(driver)
            # A driver that heard the cancel itself ends its pages without an error.
            self._finish(job, "cancelled" if job._cancel.is_set() else "finished", None)
        except _Cancelled:
            self._finish(job, "cancelled", None)
        except StationError as exc:
            log.warning("capture %s failed: %s", job.id, exc.message("en"))
            self._finish(job, "failed", exc)
        except Exception as exc:  # a bug must not leave the lock held
            log.exception("capture %s failed", job.id)
            self._finish(job, "failed", StationError(detail=repr(exc)))
        finally:
            self.lock.release()
            job._done.set()
            for callback in job._callbacks:
                try:
                    callback(job)
                except Exception:
                    log.exception("capture job callback failed")

    def _saved(self, job: CaptureJob, saved: Job) -> None:
        job.pages_saved += 1
        job.capture_ids.append(saved.capture.id)
        self._emit(
            job,
            "page_saved",
            "capture.page_saved",
            {"pages": job.pages_saved, "capture_id": saved.capture.id},
        )
        if job._cancel.is_set():
            raise _Cancelled  # the page is saved; the next one is not fed

    def _finish(self, job: CaptureJob, state: str, error: StationError | None) -> None:
        job.state, job.error, job.finished_at = state, error, utc_now()
        if state == "failed" and error is not None:
            self._emit(job, "failed", error.key, dict(error.values))
        else:
            key = N_("capture.cancelled") if state == "cancelled" else N_("capture.finished")
            self._emit(job, "finished", key, {"pages": job.pages_saved})
        self.station.announce_storage()

    def _emit(self, job: CaptureJob, phase: str, key: str, values: dict[str, Any]) -> None:
        data = {
            "phase": phase,
            "job_id": job.id,
            "book": job.book,
            "count": job.count,
            "pages_saved": job.pages_saved,
            "cancelled": job.state == "cancelled",
            **{k: v for k, v in values.items() if k == "capture_id"},
            **rendered(key, values),
        }
        self.station.events.publish("capture", data)
