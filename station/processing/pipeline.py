"""Processing: a queued capture becomes proposed entries and, when confident, PDFs.

Each step is idempotent, because a power cut can stop it anywhere and the queue will
run the same job again: the page's entries are keyed by ``<capture id>#<index>``, so a
second run finds the entries (and numbers) the first run made and only publishes what
is still unpublished.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from station.capture.intake import Intake, Job
from station.core import faults
from station.core.diskspace import is_disk_full
from station.core.errors import DiskFullError, StationError
from station.core.layouts import LayoutProfile, get_profile
from station.core.models import Book, Capture, Entry, EntryStatus, Page, Region, new_id, numeric
from station.processing import numbering
from station.processing.imaging.load import Decoded, load_image
from station.processing.imaging.segment import Segmentation, segment
from station.processing.imaging.template import BookTemplate
from station.processing.page import (
    REVIEW_FLAGS,
    cut_entry,
    draft_reserve,
    entry_pdf,
    finish_encoded,
    make_region,
)
from station.processing.pdf.encode import encode_entry
from station.processing.recapture import take_over
from station.store import Store

log = logging.getLogger(__name__)

#: Entries of one page encoded at once (the station has 2-4 cores; each encoding holds
#: its entry's pixels two or three times over).
ENCODERS = 2

#: How often a worker paused by a full disk looks whether space is back (seconds).
RETRY_SECONDS = 5.0


@dataclass
class PageResult:
    """What processing one capture produced."""

    capture: Capture
    page: Page | None = None
    entries: list[Entry] = field(default_factory=list)
    error: StationError | None = None
    seconds: float = 0.0

    @property
    def waits_for_space(self) -> bool:
        """Stopped only by a full disk: the job stays queued and runs again later."""
        return isinstance(self.error, DiskFullError)

    @property
    def needs_review(self) -> bool:
        return any(e.status is EntryStatus.REVIEW for e in self.entries)


ResultCallback = Callable[[PageResult], None]


class Pipeline:
    """Turns queued captures into entries and published PDFs."""

    def __init__(
        self,
        store: Store,
        intake: Intake,
        budget_bytes: int,
        lock: threading.RLock | None = None,
    ) -> None:
        self.store = store
        self.intake = intake
        self.budget_bytes = budget_bytes
        #: Held while a page is processed; review takes it too, so numbering and an
        #: operator's edits of the same book never interleave.
        self.lock = lock or threading.RLock()
        #: Makes a page's screen views from its pixels (the station sets it); run on a
        #: thread of its own while the page's entries are encoded.
        self.prepare_view: Callable[[Page, Capture, NDArray[np.uint8]], None] | None = None

    def process(self, job: Job) -> PageResult:
        """Process one job; a bad image is reported in the result, never raised."""
        started = time.perf_counter()
        result = PageResult(job.capture)
        try:
            with self.lock:
                result.page, result.entries = self._process(job)
        except Exception as exc:
            if not is_disk_full(exc):
                if not isinstance(exc, StationError):
                    raise
                log.warning("capture %s failed: %s", job.capture.id, exc.message("en"))
                result.error = exc
            else:
                result.error = DiskFullError("processing.waits_for_space", detail=str(exc))
        result.seconds = time.perf_counter() - started
        return result

    def _process(self, job: Job) -> tuple[Page, list[Entry]]:
        capture = job.capture
        book = self.store.get_book(capture.book)
        profile = get_profile(job.profile)
        decoded = self._decoded(job)
        rgb = decoded.rgb
        if not capture.width:
            capture.height, capture.width = rgb.shape[:2]
        if self.store.get_capture(capture.id) is None:
            self.store.add_capture(capture)
        page = self.store.get_page(book.ref.key, capture.id)
        if page is None:
            found = segment(rgb, capture.dpi, profile, self._template(book.ref.key))
            # A page the operator asked to capture again takes this capture first.
            page = take_over(self.store, book, capture, profile, found, decoded) or self._propose(
                book, capture, profile, found, decoded
            )
        entries = [self.store.get_entry(entry_id) for entry_id in page.entry_ids]
        view = self._start_view(page, capture, rgb)
        try:
            if not REVIEW_FLAGS.intersection(page.flags):
                entries = self._publish_all(entries, rgb, capture)
        finally:
            if view is not None:
                view.join()  # the page is announced with its views ready
        return page, entries

    def _template(self, book_key: str) -> BookTemplate | None:
        """The book's template (its last accepted page's cuts), if it has a usable one."""
        data = self.store.get_template(book_key)
        if data is None:
            return None
        try:
            return BookTemplate.from_dict(data)
        except ValueError as exc:
            log.warning("book %s: template not used: %s", book_key, exc)
            return None

    def _start_view(
        self, page: Page, capture: Capture, rgb: NDArray[np.uint8]
    ) -> threading.Thread | None:
        prepare = self.prepare_view
        if prepare is None:
            return None

        def run() -> None:
            try:
                prepare(page, capture, rgb)
            except (StationError, OSError) as exc:  # a full disk: the screen makes it later
                log.warning("view of %s not prepared: %s", capture.id, exc)
            except Exception:  # a bug: logged, the page goes on
                log.exception("view of %s not prepared", capture.id)

        thread = threading.Thread(target=run, name="station-view", daemon=True)
        thread.start()
        return thread

    def _publish_all(
        self, entries: list[Entry], rgb: NDArray[np.uint8], capture: Capture
    ) -> list[Entry]:
        """Publish the page's entries in order; with several to do, encode them two at a
        time (the encoder's OpenCV, numpy and zlib work lets go of the GIL), each
        within its budget less the record's reserve planned before any is published.
        The records are planned and the files published one by one, in order, as
        before: only the encoding overlaps."""
        todo = [e for e in entries if e.status is not EntryStatus.PUBLISHED]
        if len(todo) < 2:
            return [self._publish(entry, rgb, capture) for entry in entries]
        store, budget = self.store, self.budget_bytes
        reserves = {e.id: draft_reserve(e, store.plan_publish) for e in todo}
        with ThreadPoolExecutor(ENCODERS, thread_name_prefix="station-encode") as pool:
            encoding = {
                e.id: pool.submit(
                    encode_entry,
                    cut_entry(rgb, _region_of(e, capture)),
                    capture.dpi,
                    budget - reserves[e.id],
                    entry=e.number,
                )
                for e in todo
            }
            published = []
            for entry in entries:
                if entry.id not in encoding:
                    published.append(entry)
                    continue
                finished = finish_encoded(
                    encoding[entry.id].result(), budget, entry, store.plan_publish
                )
                faults.checkpoint("process.before_publish")
                store.publish(finished.plan, finished.data)
                published.append(store.get_entry(entry.id))
        return published

    def _decoded(self, job: Job) -> Decoded:
        """The page's pixels: handed over by intake when it just saved them (the file
        holds exactly these), else decoded from the raw file."""
        capture = job.capture
        held = self.intake.take_pixels(capture.id)
        if held is None:
            return load_image(self.intake.data_dir / capture.raw_path, capture.raw_path)
        array = held.array
        if array.ndim == 2:
            array = np.repeat(array[:, :, None], 3, axis=2)
        height, width = array.shape[:2]
        return Decoded(array, held.dpi, 1, (width, height))

    def _propose(
        self,
        book: Book,
        capture: Capture,
        profile: LayoutProfile,
        found: Segmentation,
        decoded: Decoded,
    ) -> Page:
        """Create (or find again, after a crash) the page's entries, then the page."""
        # The highest, not the count: a recaptured page shares its old page's place.
        sequence = max((p.sequence for p in self.store.list_pages(book.ref.key)), default=0) + 1
        first_page = (sequence - 1) * profile.pages_per_image + 1
        next_number = book.next_entry
        # Numbers after a page whose count may still change are provisional: held.
        waiting = numbering.waits_on(self.store, book.ref.key, sequence)
        held = [numbering.NUMBER_FLAG] if waiting is not None else []
        if waiting is not None:
            log.info("capture %s numbered provisionally: page %d waits for review",
                     capture.id, waiting.sequence)  # fmt: skip
        entries = []
        for index, proposed in enumerate(found.regions):
            source_key = f"{capture.id}#{index}"
            entry = self.store.find_entry_by_source(book.ref.key, source_key)
            if entry is None:
                region = make_region(capture.id, proposed, found.angle, first_page, decoded)
                entry = Entry(
                    id=new_id("e"),
                    book=book.ref.key,
                    number=str(next_number),
                    regions=[region],
                    flags=sorted({*found.flags, *proposed.flags, *held}),
                    operator=capture.operator,
                    source_key=source_key,
                )
                self.store.save_entry(entry)
            next_number = max(next_number, numeric(entry.number) + 1)
            entries.append(entry)
        faults.checkpoint("process.after_entries")
        book.next_entry = next_number
        self.store.update_book(book)
        page = Page(
            capture_id=capture.id,
            book=book.ref.key,
            sequence=sequence,
            profile=profile.name,
            entry_ids=[e.id for e in entries],
            page_numbers=[first_page + side for side in range(profile.pages_per_image)],
            flags=sorted({*found.flags, *held}),
            confidence=found.confidence,
            outside=[piece.to_dict() for piece in found.outside.pieces],
            flag_details=found.details,
        )
        self.store.save_page(page)
        return page

    def _publish(self, entry: Entry, rgb: NDArray[np.uint8], capture: Capture) -> Entry:
        if entry.status is EntryStatus.PUBLISHED:
            return entry
        return publish_entry(self.store, entry, rgb, capture, self.budget_bytes)


def publish_entry(
    store: Store, entry: Entry, rgb: NDArray[np.uint8], capture: Capture, budget_bytes: int
) -> Entry:
    """Cut the entry's region from ``rgb`` (its capture), make its finished PDF within
    the budget and publish it as the entry's next version; returns the entry as stored."""
    finished = entry_pdf(
        cut_entry(rgb, _region_of(entry, capture)),
        capture.dpi,
        budget_bytes,
        entry,
        store.plan_publish,
    )
    faults.checkpoint("process.before_publish")
    store.publish(finished.plan, finished.data)
    return store.get_entry(entry.id)


def _region_of(entry: Entry, capture: Capture) -> Region:
    """The entry's region on ``capture`` (its first region when it has none there)."""
    return next((r for r in entry.regions if r.capture_id == capture.id), entry.regions[0])


class Worker(threading.Thread):
    """Background processing of the queue, in capture order; capture never waits for it.

    A page that fails is set aside with its reason and the queue moves on. A full disk
    is no fault of the page: its job stays first in the queue, processing pauses
    (:attr:`waiting_for_space`) and the same job runs again once the disk has its
    reserve back, looked at every ``retry_seconds``.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        on_result: ResultCallback | None = None,
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        super().__init__(name="station-worker", daemon=True)
        self.pipeline = pipeline
        self.on_result = on_result
        self.retry_seconds = retry_seconds
        #: The full disk that paused processing, or None while it runs.
        self.waiting_for_space: DiskFullError | None = None
        self._stop_event = threading.Event()
        self._idle = threading.Event()

    def run(self) -> None:
        queue = self.pipeline.intake.queue
        while not self._stop_event.is_set():
            if self.waiting_for_space is not None and not self._space_back():
                queue.wait_for_change(timeout=self.retry_seconds)
                continue
            try:
                jobs = queue.pending()
                if not jobs:
                    self._idle.set()
                    queue.wait_for_change(timeout=1.0)
                    continue
                self._idle.clear()
                self._run_one(jobs[0])
            except Exception as exc:  # the worker outlives any fault; the job stays queued
                if is_disk_full(exc):
                    self._pause(DiskFullError("processing.waits_for_space", detail=str(exc)))
                    continue
                log.exception("processing: unexpected error; trying again shortly")
                self._stop_event.wait(self.retry_seconds)

    def _run_one(self, job: Job) -> None:
        try:
            result = self.pipeline.process(job)
        except Exception as exc:  # a bug must not stop the queue; the raw file stays
            if is_disk_full(exc):
                raise
            log.exception("processing %s failed", job.capture.id)
            result = PageResult(job.capture, error=StationError(detail=repr(exc)))
        if result.waits_for_space:
            assert isinstance(result.error, DiskFullError)
            self._pause(result.error, job)
        elif result.error is None:
            self.pipeline.intake.finish(job)
        else:
            # Kept aside with its reason, raw file and all, so the queue moves on.
            self.pipeline.intake.fail(job, result.error)
        if self.on_result is not None:
            self.on_result(result)

    def _pause(self, error: DiskFullError, job: Job | None = None) -> None:
        """Stop taking jobs until the disk has room again; nothing is set aside."""
        what = f"capture {job.capture.id}" if job is not None else "the queue"
        if self.waiting_for_space is None:
            log.warning("disk full: %s waits for space (%s)", what, error.values.get("detail"))
        self.waiting_for_space = error

    def _space_back(self) -> bool:
        """Whether the disk has its reserve again (processing then resumes)."""
        try:
            self.pipeline.intake.check_space()
        except DiskFullError:
            return False
        log.info("disk space is back: processing resumes")
        self.waiting_for_space = None
        return True

    def wait_idle(self, timeout: float) -> bool:
        """Wait until the queue is empty; False if ``timeout`` seconds passed first, or
        at once while processing waits for disk space (:attr:`waiting_for_space`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.pipeline.intake.queue) == 0 and self._idle.is_set():
                return True
            if self.waiting_for_space is not None:
                return False
            self.pipeline.intake.queue.wait_for_change(timeout=0.2)
        return False

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the current page, then stop."""
        self._stop_event.set()
        self.pipeline.intake.queue.wake()
        self.join(timeout)
