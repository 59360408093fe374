"""What the touch UI calls on a :class:`station.app.station.Station`: one method per action.

:class:`TouchApi` wraps a running ``Station``; the web app holds one and calls
``touch.start_capture(...)``, ``touch.page_view(...)`` and so on. Each method is a
thin, documented entry point into the module that does the work (capture_job, review,
overview, shifts, progress, books, admin_settings). All are safe to call from any
thread. Bad input raises a :class:`station.core.errors.StationError` subclass whose
``http_status`` the web layer answers with: :class:`UsageError` (400) for malformed
or impossible requests, :class:`NotFoundError` (404) for unknown books, pages, entries
or operators, :class:`ConflictError` (409) for what already exists,
:class:`StationBusyError` (409) while a capture runs, :class:`AuthError` (403) for a
wrong PIN and :class:`LockedOutError` (429) after too many. Results are plain data or
dataclasses with ``to_dict()``.

Live changes go out on ``station.core.events`` (:mod:`station.core.events` lists the kinds).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from station.app import settings as admin_settings
from station.app.station import Station
from station.capture.job import CaptureJob, CaptureRunner
from station.core.events import EventBus
from station.core.models import Book, Shift
from station.operators.progress import Progress
from station.operators.shifts import LOCAL, OperatorView, Shifts
from station.review import books
from station.review.overview import build_overview
from station.review.review import PageView, Review
from station.store import Store

log = logging.getLogger(__name__)


class TouchApi:
    """The touch UI's operations on one running station (see the module docstring)."""

    def __init__(self, station: Station) -> None:
        self.station = station
        self.store: Store = station.store
        self.events: EventBus = station.events
        self.book_lock: threading.RLock = station.book_lock
        self.captures: CaptureRunner = station.captures
        self.review: Review = station.review
        self.shifts: Shifts = station.shifts
        self.progress_counter: Progress = station.progress_counter

    @property
    def current_book(self) -> str | None:
        """The book captures go into, or None."""
        return self.station.current_book

    # -- capture ------------------------------------------------------------------

    def start_capture(self, count: int | None = 1, operator: str = "") -> CaptureJob:
        """Start capturing into the open book and return at once.

        ``count``: pages to capture (1-500), or None to empty the feeder. ``operator``:
        an operator id or name recorded with each capture; "" records the shift's
        operator. Progress goes out as ``capture`` events. Raises StationBusyError
        while a capture runs (station-wide: screen, pedal and status page share it)
        and UsageError with no book open, or without a shift when the admin requires
        one (setting ``require_shift``).
        """
        return self.captures.start(count, operator)

    def capture_state(self) -> dict[str, Any]:
        """The capture now or the last one: ``{running, job_id, pages_saved, count,
        error: {key, vi, en} | None, device: {...}, job: {...} | None}``."""
        return self.captures.state()

    def cancel_capture(self) -> bool:
        """Stop the running capture after the page being fed (pages saved are kept);
        False when no capture runs."""
        return self.captures.cancel()

    def last_page(self, book_key: str) -> PageView | None:
        """The book's most recently processed page, or None (NotFoundError: no book)."""
        return self.review.last_page(book_key)

    # -- review -------------------------------------------------------------------

    def page_view(self, book_key: str, capture_id: str) -> PageView:
        """A processed page: the view frame's size, status and the entries in reading
        order, each with its box ``[l, t, r, b]`` in view pixels (see PageView)."""
        return self.review.page_view(book_key, capture_id)

    def next_entry_with(
        self, book_key: str, capture_id: str, numbers: list[str]
    ) -> tuple[int, int]:
        """The book's next entry number, and what it becomes if the page's entries are
        numbered ``numbers`` (changes nothing)."""
        return self.review.next_entry_with(book_key, capture_id, numbers)

    def page_image(self, book_key: str, capture_id: str, max_width: int) -> bytes:
        """JPEG of the page's view frame, at most ``max_width`` pixels wide (made at
        the nearest of a few standard widths and kept on disk). Scale boxes by
        ``image width / PageView.width``."""
        return self.review.page_image(book_key, capture_id, max_width)

    def review_page(
        self, book_key: str, capture_id: str, cuts: list[dict[str, Any]], operator: str = ""
    ) -> PageView:
        """Replace the page's entries with ``cuts``: ``[{"box": [l, t, r, b], "number":
        "12a", "flags": [...], "entry_id": optional}]`` in view pixels.

        A cut edits the entry it names (or, without ``entry_id``, the entry it overlaps
        most); an entry left without a cut is withdrawn (file kept, feed
        ``withdrawn``); a cut matching no entry is a new entry. On a page in review the
        edits stay proposals until :meth:`accept_page`; on an accepted page each edit
        is published at once as a new version (a renumbered entry under its new name).
        Numbers: digits plus an optional lower-case suffix, at most 16 characters; a
        number used elsewhere in the book needs the flag ``duplicate_number``. Flags:
        faded, torn, missing_fields, illegible, stained and the station's own.
        """
        return self.review.review_page(book_key, capture_id, cuts, operator)

    def accept_page(self, book_key: str, capture_id: str, operator: str = "") -> PageView:
        """Publish the page's entries waiting in review, as proposed."""
        return self.review.accept_page(book_key, capture_id, operator)

    def request_recapture(self, book_key: str, capture_id: str, operator: str = "") -> PageView:
        """Mark the page to be captured again; the book's next capture takes over its
        entries with their numbers (published ones get a new version)."""
        return self.review.request_recapture(book_key, capture_id, operator)

    def book_overview(self, book_key: str) -> dict[str, Any]:
        """One cell per entry number from the first to the expected or highest one:
        ``{number, state, flags, collected, entries: [{entry_id, status, file, version,
        flags, capture_id, pages}]}``; states missing, rescan_requested, review,
        duplicated, collected, flagged, done (see :mod:`station.review.overview`)."""
        book = self.review._book(book_key)
        return build_overview(
            book,
            self.store.list_entries(book_key),
            self.store.list_pages(book_key),
            self.collected_entries(book_key),
            self.rescan_requests(book_key),
        )

    def entry_pdf(self, entry_id: str, version: int | None = None) -> Path:
        """The PDF file of an entry's newest version, or of ``version``."""
        return self.review.entry_pdf(entry_id, version)

    def collected_entries(self, book_key: str) -> set[str]:
        """Ids of the book's entries whose current file a paired collector acknowledged
        (from the LAN service's acknowledgements; empty without it)."""
        lan = self.station.lan
        acks, pairing = getattr(lan, "acks", None), getattr(lan, "pairing", None)
        if acks is None or pairing is None:
            return set()
        collectors = [c.id for c in pairing.collectors()]
        return set(acks.held(collectors, book_key, self.store.list_entries(book_key)))

    def rescan_requests(self, book_key: str) -> set[str]:
        """Ids of the book's entries an entry PC asked to rescan, not replaced since."""
        rescans = getattr(self.station.lan, "rescans", None)
        if rescans is None:
            return set()
        versions = {
            e.id: e.current.version if e.current else 0 for e in self.store.list_entries(book_key)
        }
        return {
            r["entry_id"]
            for r in rescans.by_book().get(book_key, [])
            if r["entry_id"] in versions and versions[r["entry_id"]] <= int(r.get("version", 0))
        }

    # -- shifts and operators ---------------------------------------------------------

    def add_operator(self, name: str, pin: str) -> OperatorView:
        """Add an operator (name unique ignoring case, PIN of 4-8 digits)."""
        return self.shifts.add_operator(name, pin)

    def list_operators(self) -> list[OperatorView]:
        """Every operator (id, name, created_at), by name."""
        return self.shifts.list_operators()

    def start_shift(self, operator_id: str, pin: str, client: str = LOCAL) -> Shift:
        """Sign an operator in; a wrong PIN raises AuthError, the fifth in a row from
        ``client`` (an address; the station's own screen by default) locks that operator
        out there for 60 s (LockedOutError), also after a restart. Ends a shift still
        running."""
        return self.shifts.start_shift(operator_id, pin, client)

    def current_shift(self) -> Shift | None:
        """The shift in progress (operator_id, operator_name, started_at...), or None."""
        return self.shifts.current_shift()

    def end_shift(self, note: str = "") -> Shift:
        """End the shift in progress with a handover note (at most 2000 characters)."""
        return self.shifts.end_shift(note)

    def last_handover(self) -> dict[str, Any] | None:
        """The last shift's handover note {note, operator_name, ended_at...}, or None."""
        return self.shifts.last_handover()

    def set_admin_pin(self, pin: str) -> None:
        """Set the admin PIN (4-8 digits); the first-boot wizard must set one."""
        self.shifts.set_admin_pin(pin)

    def check_admin_pin(self, pin: str, client: str = LOCAL) -> bool:
        """Whether ``pin`` is the admin PIN (False when none is set); rate-limited per
        ``client`` (an address; the station's own screen by default)."""
        return self.shifts.check_admin_pin(pin, client)

    def admin_pin_set(self) -> bool:
        """Whether an admin PIN exists."""
        return self.shifts.admin_pin_set()

    def progress(self) -> dict[str, Any]:
        """Entries done: ``{per_hour: {last_hour, shift_average}, today, shift, book:
        {key, entries, expected} | None, station: {entries, books}}`` (an entry counts
        when first published)."""
        shift = self.shifts.current_shift()
        book = self.current_book
        data = self.progress_counter.snapshot(
            shift_started=shift.started_at if shift else None, book=book
        )
        if book is not None and data["book"] is not None and self.store.has_book(book):
            data["book"]["expected"] = self.store.get_book(book).expected_entries
        return data

    # -- books ---------------------------------------------------------------------------

    def create_book(
        self,
        type: str,
        year: int,
        book: int,
        office: str | None = None,
        profile: str | None = None,
        first_entry: int = 1,
        expected: int | None = None,
    ) -> Book:
        """Create a ledger book and open it. ``type``: KS, KH, KT...; ``office``: the
        office code ("" or None: the station's); ``profile``: a layout profile (None:
        the default); ``expected``: entries the book should hold. ConflictError when
        the book exists, UsageError naming a bad value."""
        new = books.create_book(
            self.store,
            self.book_lock,
            self.station.info,
            self.station.config.processing.default_profile,
            type,
            year,
            book,
            office,
            profile,
            first_entry,
            expected,
        )
        self.station.open_book(new.ref.key)
        return new

    def list_books(self) -> list[dict[str, Any]]:
        """Every book with counts; ``current`` marks the open one, ``last_opened`` the
        one to offer for "continue"."""
        return books.list_books(self.store, self.current_book)

    # -- settings ------------------------------------------------------------------------

    def settings_view(self) -> dict[str, Any]:
        """The admin screen: naming preset(s), budget, dpi, simulated profile,
        require_shift, admin_pin_set, device, storage, config file."""
        return admin_settings.settings_view(self.station)

    def update_settings(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Change ``naming_preset``, ``budget_kb``, ``capture_dpi``,
        ``simulated_profile`` (written to station.toml atomically) and
        ``require_shift``; applied at once. UsageError names a refused key."""
        return admin_settings.update_settings(self.station, changes)
