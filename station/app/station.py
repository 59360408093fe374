"""The running station: store, intake, processing worker and capture, wired together.

The CLI and the web UI both drive the station through this one object, so a page
captured from the command line and one captured from the touch screen take exactly
the same path.
"""

from __future__ import annotations

import collections
import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, cast

import numpy as np
from flask import Flask
from numpy.typing import NDArray

from station.app.phones import PhonePairing
from station.capture.drivers import configured_options, create_driver, driver_class
from station.capture.drivers.base import (
    CaptureContext,
    CapturedImage,
    DeviceState,
    Driver,
    DriverEvent,
)
from station.capture.drivers.folder.watcher import HotFolder, Sink
from station.capture.intake import Intake, Job, Preview
from station.capture.job import REQUIRE_SHIFT, CaptureRunner, rendered
from station.capture.peripherals import Peripherals
from station.core import diskspace, messages
from station.core.config import Config
from station.core.diskspace import StorageState
from station.core.errors import NotFoundError, StationError, StoreError, UsageError
from station.core.events import EventBus
from station.core.identity import PresetNamer, station_identity
from station.core.layouts import get_profile
from station.core.models import Book, BookRef, Capture, Entry, FeedEvent, Page, kb_bytes
from station.lan.pairing import PairRequest
from station.lan.service import LanService
from station.operators.progress import Progress
from station.operators.shifts import Shifts
from station.processing.pipeline import PageResult, Pipeline, Worker
from station.review import books
from station.review.books import LAST_BOOK
from station.review.frame import SCREEN_WIDTH
from station.review.review import Review
from station.store import ReindexReport, Store, reindex
from station.store.bookdb import read_template
from station.store.counts import book_counts
from station.store.scrub import Scrub
from station.system import storage_guard

log = logging.getLogger(__name__)


@dataclass
class DeviceStatus:
    """What the UI shows about the capture device."""

    kind: str
    device: str = ""
    state: str = DeviceState.OFFLINE.value
    message_key: str = ""
    values: dict[str, Any] = field(default_factory=dict)


def _missing(kind: str, wanted: str, found: list[str]) -> tuple[str, dict[str, Any]]:
    """The message saying a device of ``kind`` (named ``wanted``, if so) is not there."""
    if wanted and found:
        return "device.not_found", {"device": wanted, "found": ", ".join(found)}
    if kind == "camera":
        return "camera.none", {}
    if kind == "sane":
        return "sane.no_devices", {}
    return "device.missing", {"kind": kind}


def reindex_data(config: Config) -> ReindexReport:
    """Rebuild the configured data folder's index from its PDF files (the station must
    not be running); ``station reindex``."""
    return reindex(config.data_dir, station_identity(config, config.data_dir))


def book_template(config: Config, book: str) -> dict[str, Any] | None:
    """The template of ``book`` (e.g. KS/2007/01) in the configured data folder, as
    plain data; readable while the station runs (``station template export``)."""
    return read_template(config.data_dir / "db" / "books", BookRef.parse(book).key)


class Station:
    """Owns the data folder while running; start() and stop() bracket its life.

    It builds every part and hands each what it needs; the CLI calls it, the touch UI
    calls it through :class:`station.app.touch.TouchApi`.
    """

    def __init__(self, config: Config, data_dir: Path | None = None) -> None:
        self.config = config
        self.data_dir = data_dir or config.data_dir
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.info = station_identity(config, self.data_dir)
        self.store = Store(self.data_dir, self.info, PresetNamer(config, self.info))
        self.results: collections.deque[PageResult] = collections.deque(maxlen=200)
        self.device = DeviceStatus(kind=config.capture.device)
        #: The hot folder's status, when one is configured (``device`` itself when
        #: the folder is the capture device).
        self.folder: DeviceStatus | None = None
        self.current_book: str | None = None
        self._lock = threading.Lock()
        self._worker: Worker | None = None
        self._intake: Intake | None = None
        self._watcher: HotFolder | None = None
        #: Published files checked against their recorded SHA-256 (bit rot), slowly.
        self.scrub = Scrub(
            self.store,
            self.data_dir,
            interval=config.storage.scrub_hours * 3600,
            rate=config.storage.scrub_kb_per_second * 1024,
        )
        #: Entry PCs: pairing, API over TLS, zeroconf (started by :meth:`serve_lan`).
        self.lan = LanService(config.lan, self.data_dir, self.info, self.store)
        self.lan.verifier.damaged = self.scrub.is_damaged  # a rotten file is never served
        #: Live events for the touch UI (station.core.events lists the kinds).
        self.events = EventBus()
        #: Phones paired by QR code to send page photos (kept in db/phones.json).
        self.phones = PhonePairing(self.data_dir / "db" / "phones.json")
        self.phones.on_change = self._on_phones_changed
        #: Held by processing and by review edits, so a book's numbering never interleaves.
        self.book_lock = threading.RLock()
        #: The one capture at a time (screen, pedal, status page).
        self.captures = CaptureRunner(self)
        #: USB plug and unplug, and the pedal, keys and buttons that start a capture.
        self.peripherals = Peripherals(
            config, self.captures, lambda: self.current_book, on_usb=self._on_usb_change
        )
        self.shifts = Shifts(self.store, self.events)
        self.review = Review(
            self.store,
            self.events,
            self.book_lock,
            self.data_dir,
            budget_bytes=lambda: kb_bytes(self.config.processing.budget_kb),
            operator_name=self.shifts.operator_name,
            on_book_changed=self.announce_book,
        )
        self.progress_counter = Progress(self.store)
        #: The station.toml the admin screen writes (None: $STATION_CONFIG, or the
        #: system file when it exists); set it when loading from another file.
        self.config_path: Path | None = None

    # life cycle -------------------------------------------------------------
    def start(self) -> Station:
        """Open the store (recovering from any crash), then start processing the queue."""
        self.store.open()
        self.review.remove_stale_temps()  # a view being written when the power went
        self._intake = Intake(self.data_dir, self.config.storage.reserve_mb)
        budget = kb_bytes(self.config.processing.budget_kb)
        pipeline = Pipeline(self.store, self._intake, budget, self.book_lock)
        pipeline.prepare_view = self._prepare_view
        self.store.feed.listeners.append(self.announce_feed)
        self._worker = Worker(pipeline, on_result=self._on_result)
        self._worker.start()
        self.scrub.start()
        self._probe_device()
        self._start_folder()
        self.peripherals.start()
        return self

    def serve_lan(self, app: Flask) -> None:
        """Serve ``app`` (the web app, whose ``/api/v1`` the entry PCs use) to the LAN
        over TLS and announce it, when ``[lan] enabled``."""
        if self.config.lan.enabled:
            self.lan.start(app)

    def _probe_device(self, rescan: bool = False) -> None:
        """Show the configured device as ready when it is present, or as offline with
        what to do when it is not. ``rescan``: look again from scratch (a driver may
        have cached what it found, as libsane does until it is restarted)."""
        kind = self.device.kind
        try:
            cls = driver_class(kind)
            found = cls.rescan() if rescan else cls.probe()
        except StationError as exc:
            self.device.state = DeviceState.ERROR.value
            self.device.message_key, self.device.values = exc.key, dict(exc.values)
            return
        wanted = self.config.capture.device_id
        names = [info.device for info in found]
        if found and (not wanted or wanted in names or kind not in ("sane", "camera")):
            self.device.device = wanted if wanted in names else names[0]
            self.device.state = DeviceState.IDLE.value
            self.device.message_key, self.device.values = "", {}
        elif kind != "folder":  # the hot folder's watcher reports the folder itself
            self.device.state = DeviceState.OFFLINE.value
            self.device.message_key, self.device.values = _missing(kind, wanted, names)

    def check_device(self) -> dict[str, Any]:
        """Look for the capture device again (the operator plugged it back in and
        pressed Connect); its state goes out as a ``device`` event and is returned."""
        # Not during a capture (its driver reports the device) nor letting one start.
        if self.captures.lock.acquire(blocking=False):
            try:
                self._probe_device(rescan=True)
            finally:
                self.captures.lock.release()
            self.events.publish("device", self.device_status())
        return self.device_status()

    def stop(self) -> None:
        """Finish the page being processed, stop the worker and close the store."""
        self.lan.stop()
        self.scrub.stop()
        self.peripherals.stop()
        self.captures.stop()
        if self._watcher is not None:
            self._watcher.close()
            self._watcher = None
        if self._worker is not None:
            self._worker.stop()
            self._worker = None
        self.store.close()
        self.events.close()

    def __enter__(self) -> Station:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def intake(self) -> Intake:
        if self._intake is None:
            raise StoreError(path=str(self.data_dir), detail="station not started")
        return self._intake

    # books ----------------------------------------------------------------
    def open_book(
        self,
        ref: BookRef | str,
        profile: str | None = None,
        first_entry: int | None = None,
        expected_entries: int | None = None,
    ) -> Book:
        """Open the book ``ref``: a BookRef is created with the given settings if it is
        new; a key (``KS-2007-01``, what ``list_books`` gives) must exist
        (NotFoundError). The touch screen creates books with ``create_book``."""
        if isinstance(ref, str):
            if not self.store.has_book(ref):
                raise NotFoundError("review.unknown_book", book=ref[:40])
            ref = self.store.get_book(ref).ref
        existing = {b.ref.key: b for b in self.store.list_books()}
        book = existing.get(ref.key)
        if book is None:
            start = first_entry or 1
            book = Book(
                ref=ref,
                office_code=self.info.office_code,
                office_name=self.info.office_name,
                profile=get_profile(profile or self.config.processing.default_profile).name,
                first_entry=start,
                next_entry=start,
                expected_entries=expected_entries,
            )
            self.store.create_book(book)
        self.current_book = book.ref.key
        self.store.set_setting(LAST_BOOK, book.ref.key)
        if self._watcher is not None:
            self._watcher.wake()  # files waiting for a book go in now
        self.announce_book(book.ref.key)
        return book

    # capture --------------------------------------------------------------
    def make_driver(
        self, kind: str | None = None, context: CaptureContext | None = None, **options: Any
    ) -> Driver:
        """A driver for the configured device (or ``kind``), reporting to the status.

        It gets only its own options (``options`` over the configured ones); the book
        being captured into goes in ``context``, which only the simulators read.
        """
        kind = self.config.capture.device if kind is None else kind
        merged = {**configured_options(self.config.capture, kind), **options}
        if kind == "folder":
            # The running watcher reports the folder's state, not this second instance.
            return create_driver(kind, merged, context=context)
        if kind != self.device.kind:
            self.device = DeviceStatus(kind=kind)
        return create_driver(kind, merged, self._on_device_event, context)

    def capture(
        self,
        driver: Driver,
        book: Book,
        count: int | None,
        operator: str = "",
        on_saved: Callable[[Job], None] | None = None,
    ) -> list[Job]:
        """Capture up to ``count`` pages into ``book``; every page fed is saved first.

        A device error is raised only after the pages fed before it were saved.
        ``on_saved`` is called with each page's job once it is safe; an exception it
        raises ends the capture (the pages saved stay saved).
        """
        jobs = []
        if driver.state is DeviceState.OFFLINE:
            driver.open()
        self.device.device = driver.device
        pages = driver.capture(count)
        try:
            for captured in pages:
                jobs.append(self.intake.save(captured, book.ref, book.profile, operator))
                if on_saved is not None:
                    on_saved(jobs[-1])
        finally:
            close = getattr(pages, "close", None)
            if callable(close):
                close()  # a generator left early finishes its device state now
        return jobs

    def books(self) -> list[Book]:
        """Every book, in the order they were created."""
        return self.store.list_books()

    def find_entry(self, entry_id: str) -> Entry | None:
        """The entry ``entry_id`` of any book, or None."""
        return self.store.find_entry(entry_id)

    def saved_preview(self, capture_id: str) -> Preview | None:
        """A small JPEG of a page saved lately, made as it was saved (None when it is
        no longer kept), for the screen to show before the page is processed."""
        return self._intake.preview(capture_id) if self._intake else None

    def queue_length(self) -> int:
        """Pages saved and waiting to be processed."""
        return len(self._intake.queue) if self._intake else 0

    def failed_pages(self) -> list[tuple[Job, dict[str, str]]]:
        """Pages whose processing failed (their raw images are kept), with the reason
        in each language."""
        return self._intake.queue.failed() if self._intake else []

    def pending_pairings(self) -> list[PairRequest]:
        """Entry PCs asking to pair, for the station's own screen."""
        return self.lan.pairing.pending()

    def peripherals_status(self) -> dict[str, Any]:
        """USB devices, capture triggers and their recent notices."""
        return self.peripherals.status()

    def capture_operator(self, operator: str) -> str:
        """The name a capture records for ``operator`` ("": the shift's operator);
        UsageError when the admin requires a shift and none is running."""
        if self.shifts.current_shift() is None and self.store.get_setting(REQUIRE_SHIFT, False):
            raise UsageError("capture.no_shift")
        return self.shifts.operator_name(operator)

    def check_space(self) -> None:
        """Refuse a capture while the disk is below its reserve (DiskFullError, with
        the disk-full message), before any page is fed."""
        if self._intake is not None:
            self._intake.check_space()

    def waiting_for_space(self) -> int:
        """Pages saved whose processing waits for disk space (0: processing runs)."""
        if self._worker is None or self._worker.waiting_for_space is None:
            return 0
        return self.queue_length()

    def get_book(self, key: str) -> Book:
        """The book ``key`` (NotFoundError when unknown)."""
        if not self.store.has_book(key):
            raise NotFoundError("review.unknown_book", book=key[:40])
        return self.store.get_book(key)

    def release(self, driver: Driver) -> None:
        """Close a driver after capturing; the status shows the device as present again."""
        driver.close()
        if driver.state is DeviceState.OFFLINE:
            self._probe_device()
        self.events.publish("device", self.device_status())

    def deliver(self, captured: CapturedImage, operator: str = "") -> Job:
        """Save a page a passive source handed over (hot folder, phone) into the open book.

        Raises UsageError when no book is open; the page is safe once this returns.
        """
        key = self.current_book
        if key is None:
            raise UsageError("capture.no_book")
        book = self.store.get_book(key)
        operator = operator or self.shifts.operator_name("")
        return self.intake.save(captured, book.ref, book.profile, operator)

    def has_raw(self, data: bytes) -> bool:
        """Whether intake already holds exactly these bytes as a raw capture.

        Asked only for a hot-folder file a crash left between hand-over and ``done/``;
        only raw files of the same size are hashed.
        """
        digest = hashlib.sha256(data).hexdigest()
        for raw in self.intake.captures_dir.glob("*/*"):
            if raw.suffix == ".done" or raw.stat().st_size != len(data):
                continue
            if hashlib.sha256(raw.read_bytes()).hexdigest() == digest:
                return True
        return False

    def _start_folder(self) -> None:
        """Watch the hot folder when it is the device or has a path configured."""
        folder_path = self.config.capture.options("folder").path
        if self.config.capture.device != "folder" and not folder_path:
            return
        if self.config.capture.device == "folder":
            self.folder = self.device
        else:
            self.folder = DeviceStatus(kind="folder", device=folder_path)
        options = configured_options(self.config.capture, "folder")
        try:
            watcher = cast("HotFolder", create_driver("folder", options, self._on_folder_event))
        except StationError as exc:
            self.folder.state = DeviceState.ERROR.value
            self.folder.message_key, self.folder.values = exc.key, dict(exc.values)
            return
        self.folder.device = watcher.device
        watcher.watch(
            Sink(self.deliver, ready=lambda: self.current_book is not None, holds=self.has_raw)
        )
        self._watcher = watcher

    def wait_idle(self, timeout: float = 600.0) -> bool:
        """Wait until every queued page is processed."""
        return self._worker.wait_idle(timeout) if self._worker else True

    # entry PCs --------------------------------------------------------------
    def approve_pairing(self, request_id: str) -> PairRequest:
        """Approve an entry PC's pairing request (by id or 6-digit code); it receives
        its token at its next poll. Raises LanError for an unknown or decided one."""
        return self.lan.pairing.approve(request_id)

    def deny_pairing(self, request_id: str) -> PairRequest:
        """Deny an entry PC's pairing request (by id or 6-digit code)."""
        return self.lan.pairing.deny(request_id)

    # status ---------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """Counts and states for the status page and the API."""
        books = []
        for book in self.store.list_books():
            books.append(
                {
                    "ref": str(book.ref),
                    "key": book.ref.key,
                    "profile": book.profile,
                    **book_counts(self.store, book.ref.key).to_dict(),
                    "next_entry": book.next_entry,
                }
            )
        return {
            "station": self.info.to_dict(),
            "device": self.device.__dict__,
            "folder": None if self.folder is None else _with_message(self.folder),
            "peripherals": self.peripherals.status(),
            "current_book": self.current_book,
            "books": books,
            "queue": len(self._intake.queue) if self._intake else 0,
            "failed": len(self._intake.queue.failed()) if self._intake else 0,
            "lan": self.lan.status(),
            "storage": self.storage().to_dict(),
            "waiting_for_space": self.waiting_for_space(),
            "damaged_files": len(self.scrub.damaged()),
        }

    def storage(self) -> StorageState:
        """Disk space of the data folder and its level (ok, warn, full) for the screen."""
        storage = self.config.storage
        return diskspace.measure(self.data_dir, storage.reserve_mb, storage.warn_mb)

    def cleanable(self) -> storage_guard.CleanupReport:
        """What an admin may delete to free space (files every collector holds)."""
        return storage_guard.cleanable(self.store, self.data_dir)

    def device_status(self) -> dict[str, Any]:
        """The capture device's state with its message in each language."""
        return _with_message(self.device)

    def apply_config(self, config: Config) -> None:
        """Run with ``config`` from now on (settings changed on the admin screen): the
        naming preset, the size budget and the capture settings take effect at once."""
        namer = PresetNamer(config, self.info)  # refuses an unknown preset before any change
        self.config = config
        self.store.namer = namer
        # The store and namer hold this very object: later files carry the new names.
        self.info.name = config.station.name
        self.info.office_code = config.station.office_code
        self.info.office_name = config.station.office_name
        if self._worker is not None:
            self._worker.pipeline.budget_bytes = kb_bytes(config.processing.budget_kb)

    def _prepare_view(self, page: Page, capture: Capture, rgb: NDArray[np.uint8]) -> None:
        """A processed page's view frame and main-screen image, from its pixels in
        memory, made while its entries are encoded (so its fetches decode nothing)."""
        self.review.warm(page.book, capture.id, rgb, SCREEN_WIDTH)

    def _on_result(self, result: PageResult) -> None:
        with self._lock:
            self.results.append(result)
        self.announce_result(result)
        if result.waits_for_space:
            self.announce_storage()

    def _on_phones_changed(self) -> None:
        self.events.publish("phones", {})

    def _on_usb_change(self) -> None:
        """Something was plugged in or out: the capture device may have come or gone."""
        if self.device.kind in ("sane", "camera"):
            self.check_device()

    def _on_folder_event(self, event: DriverEvent) -> None:
        # Progress and rejections are logged by the folder; its state carries the counts.
        if self.folder is not None and event.state is not None:
            self.folder.state = event.state.value
            self.folder.message_key = event.message_key
            self.folder.values = dict(event.values)

    def _on_device_event(self, event: DriverEvent) -> None:
        if event.state is not None:
            self.device.state = event.state.value
        self.device.message_key = event.message_key
        self.device.values = dict(event.values)
        self.captures.on_device_event(event)
        if event.kind != "progress":
            self.events.publish("device", self.device_status())

    # -- events --------------------------------------------------------------------------

    def announce_book(self, book_key: str) -> None:
        """Publish a ``book`` event with the book's counts."""
        if self.store.has_book(book_key):
            counts = books.book_counts(self.store, book_key)
            self.events.publish(
                "book", {"book": book_key, "counts": counts, "current": self.current_book}
            )

    def announce_storage(self) -> None:
        """Publish a ``storage`` event (free space against the reserve)."""
        self.events.publish("storage", self.storage().to_dict())

    def announce_result(self, result: PageResult) -> None:
        """Publish the ``page`` (and ``book``) events for a processed capture."""
        data: dict[str, Any] = {
            "capture_id": result.capture.id,
            "book": result.capture.book,
            "status": "review" if result.needs_review else "accepted",
            "needs_review": result.needs_review,
            "entries": [
                {"entry_id": e.id, "number": e.number, "status": e.status.value, "flags": e.flags}
                for e in result.entries
            ],
        }
        if result.page is not None and result.page.replaces:
            data["replaces"] = result.page.replaces
        if result.error is not None:
            data["error"] = rendered(result.error.key, dict(result.error.values))
        self.events.publish("page", data)
        self.announce_book(result.capture.book)

    def announce_feed(self, event: FeedEvent) -> None:
        """Publish an ``entry`` event for a feed event (published, replaced, withdrawn)."""
        self.events.publish(
            "entry",
            {
                "kind": event.kind.value,
                "entry_id": event.entry_id,
                "book": event.book,
                "number": event.number,
                "version": event.version,
                "file": event.file,
                "seq": event.seq,
            },
        )


def _with_message(status: DeviceStatus) -> dict[str, Any]:
    """A device status with its message rendered in every language."""
    message = {}
    if status.message_key:
        message = {
            # Drivers report the device beside the values; most messages name it.
            lang: messages.render(
                status.message_key, lang, **{"device": status.device, **status.values}
            )
            for lang in messages.LANGUAGES
        }
    return {**status.__dict__, "message": message}
