"""Reviewing a processed page: the page with its cuts, and the operator's edits to them.

The touch UI shows each page in its *view frame* (:mod:`station.review.frame`) with
every entry's box and number drawn over it. The operator then:

- accepts the page (:meth:`Review.accept_page`): entries still in review are cut,
  encoded and published as proposed;
- edits the cuts (:meth:`Review.review_page`): a cut that changes an entry's box,
  number or flags edits that entry, a missing cut withdraws its entry (file kept,
  feed ``withdrawn``), a new cut makes a new entry. On a page in review the edits stay
  proposals until it is accepted; on an accepted page each edit is published at once
  as a new version (feed ``replaced``), under the new name when renumbered;
- or asks for the page to be captured again (:meth:`Review.request_recapture`); the
  book's next capture then takes over its entries (:mod:`station.processing.recapture`).

Auto-accept: a page whose segmentation is confident (the count matches the profile)
is published by processing as soon as it is cut; its view says ``accepted`` with
``auto_accepted`` true, and the operator may still edit it. Other pages stay in
review, unpublished, until accepted.

Every edit holds the station's book lock (shared with processing), so numbering and
an operator's edit of the same book never interleave.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from station.core.errors import ImageError, NotFoundError, StationError, UsageError
from station.core.events import EventBus
from station.core.fsutil import remove_stale_temps, write_atomic
from station.core.layouts import get_profile
from station.core.models import (
    Book,
    Capture,
    Entry,
    EntryStatus,
    Page,
    new_id,
    utc_now,
)
from station.processing import numbering
from station.processing.imaging.load import StoredGrid, load_rgb, read_grid
from station.processing.page import REVIEW_FLAGS, source_polygon
from station.processing.pipeline import publish_entry
from station.review.cuts import (
    Cut,
    check_cuts,
    check_duplicates,
    match_cuts,
    same_box,
)
from station.review.frame import (
    Box,
    ViewFrame,
    compute_frame,
    identity_frame,
    render_view,
    snap_width,
)
from station.review.templates import teach
from station.store import Store

log = logging.getLogger(__name__)


#: Frames kept in memory (each a few numbers; the disk keeps all of them).
FRAMES_CACHED = 256
VIEWS = "views"


@dataclass
class EntryView:
    """One entry as the review screen draws it (box in the page's view pixels)."""

    entry_id: str
    number: str
    flags: list[str]
    status: str  # "review", "published" or "withdrawn"
    box: list[int] | None  # [left, top, right, bottom]; None: not on this capture
    page_side: int = 0
    page_number: int | None = None
    file: str | None = None  # published file, relative to the published folder
    version: int | None = None
    #: [[x, y], ...] in view pixels when the cut steps round the writing or follows a
    #: bent page (the box is its bounds); None: the box is the cut.
    outline: list[list[float]] | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def next_entry_after(first_entry: int, numbers: list[str]) -> int:
    """The number after the highest plain entry number ("12"), never below ``first_entry``.

    A number with a suffix ("12a") is an entry slipped in after its plain one: it never
    moves the book's sequence (renumbering an entry to 12a used to turn the next number
    from 11 into 13 without a word).
    """
    plain = [int(n) + 1 for n in numbers if n.isdigit()]
    return max([first_entry, *plain])


@dataclass
class PageView:
    """A processed page for the review screen.

    ``width`` x ``height`` is the size of the view frame in pixels; the page image
    (:meth:`Review.page_image`) is that frame scaled to the width asked for, so a box
    is drawn at ``box * image_width / width``. ``status``: "review" (entries wait to
    be accepted), "accepted" (all published; ``auto_accepted`` when nobody had to) or
    "recapture" (to be captured again).
    """

    capture_id: str
    book: str
    sequence: int
    profile: str
    width: int
    height: int
    status: str
    auto_accepted: bool
    flags: list[str]
    confidence: float
    page_numbers: list[int]
    entries: list[EntryView]
    recapture_requested: bool = False
    replaces: str = ""
    replaced_by: str = ""
    reviewed_by: str = ""
    reviewed_at: str = ""
    captured_at: str = ""
    operator: str = ""
    dpi: int = 0
    #: Ink outside every entry and the figures behind the flags (see ``core.models.Page``).
    outside: list[dict[str, Any]] = field(default_factory=list)
    flag_details: dict[str, dict[str, str]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def needs_review(self) -> bool:
        return self.status == "review"

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["needs_review"] = self.needs_review
        return data


class Review:
    """Page views and the operator's review actions, for one station."""

    def __init__(
        self,
        store: Store,
        events: EventBus,
        book_lock: threading.RLock,
        data_dir: Path,
        *,
        budget_bytes: Callable[[], int],
        operator_name: Callable[[str], str],
        on_book_changed: Callable[[str], None],
    ) -> None:
        """``budget_bytes`` gives the size budget in force (settings change it at run
        time); ``operator_name`` turns an operator id or "" into the name recorded;
        ``on_book_changed`` is told after an edit changed a book's entries."""
        self.store = store
        self.events = events
        self.book_lock = book_lock
        self.data_dir = data_dir
        self._budget_bytes = budget_bytes
        self._operator_name = operator_name
        self._on_book_changed = on_book_changed
        self._frames: OrderedDict[str, ViewFrame] = OrderedDict()
        self._frame_lock = threading.Lock()

    # -- reading -----------------------------------------------------------------

    def page_view(self, book_key: str, capture_id: str) -> PageView:
        """The page made from ``capture_id`` with its entries in reading order."""
        _, page, capture = self._locate(book_key, capture_id)
        return self._view(page, capture, self.frame(page, capture))

    def last_page(self, book_key: str) -> PageView | None:
        """The book's most recently processed page, or None before the first."""
        self._book(book_key)
        pages = self.store.list_pages(book_key)
        if not pages:
            return None
        newest = max(pages, key=lambda p: p.capture_id)  # capture ids sort by time
        return self.page_view(book_key, newest.capture_id)

    def page_image(self, book_key: str, capture_id: str, max_width: int) -> bytes:
        """The page's view frame as a JPEG at most ``max_width`` pixels wide (cached)."""
        if isinstance(max_width, bool) or not isinstance(max_width, int) or max_width < 1:
            raise UsageError("review.bad_value", name="max_width")
        _, page, capture = self._locate(book_key, capture_id)
        frame = self.frame(page, capture)
        width = snap_width(max_width, frame)
        path = self._cache_dir(book_key) / f"{capture_id}.w{width}.jpg"
        try:
            return path.read_bytes()
        except FileNotFoundError:
            pass
        data = render_view(self._rgb(capture), frame, width)
        write_atomic(path, data)
        return data

    def entry_pdf(self, entry_id: str, version: int | None = None) -> Path:
        """The PDF of an entry's newest version (or of ``version``); files are kept, so
        a withdrawn entry's file is still found."""
        entry = self._entry(entry_id)
        if version is None:
            chosen = entry.current
        elif isinstance(version, bool) or not isinstance(version, int):
            raise UsageError("review.bad_value", name="version")
        else:
            chosen = next((v for v in entry.versions if v.version == version), None)
            if chosen is None:
                raise NotFoundError("review.unknown_version", entry=entry_id, version=version)
        if chosen is None:
            raise NotFoundError("review.no_file", entry=entry_id)
        path = self.store.published_path(chosen.file)
        if not path.is_file():
            raise NotFoundError("review.no_file", entry=entry_id)
        return path

    # -- acting ------------------------------------------------------------------

    def review_page(
        self, book_key: str, capture_id: str, cuts: list[dict[str, Any]], operator: str = ""
    ) -> PageView:
        """Replace the page's entries with ``cuts`` (see the module docstring).

        ``cuts``: ``{"box": [l, t, r, b], "number": "12a", "flags": [...]}`` in view
        pixels, optionally with the ``entry_id`` of the entry a cut edits (without
        it, cuts are matched to entries by overlap). Numbers: digits with an optional
        lower-case suffix; a number used elsewhere in the book needs the flag
        ``duplicate_number``. Raises UsageError or NotFoundError; nothing changes then.
        """
        _, page, capture = self._locate(book_key, capture_id)
        frame = self.frame(page, capture)
        checked = check_cuts(cuts, frame)
        name = self._operator_name(operator)
        with self.book_lock:
            page = self._fresh_page(page)
            plan = self._plan(page, capture, frame, checked, name)
            rgb = self._rgb(capture) if plan.publishes else None
            page.reviewed_by, page.reviewed_at = name or "-", utc_now()
            try:
                self._apply(plan, page, frame, capture, rgb, name)
            finally:
                self._renumber_book(book_key)
            settled = self._settle(book_key)
        view = self._announce(page, capture, frame)
        self._announce_settled(settled, page)
        return view

    def accept_page(self, book_key: str, capture_id: str, operator: str = "") -> PageView:
        """Publish the page's entries still in review, as proposed."""
        _, page, capture = self._locate(book_key, capture_id)
        frame = self.frame(page, capture)
        name = self._operator_name(operator)
        with self.book_lock:
            page = self._fresh_page(page)
            waiting = [e for e in self._live(page) if e.status is EntryStatus.REVIEW]
            held = numbering.NUMBER_FLAG in page.flags and not page.reviewed_by
            before = numbering.waits_on(self.store, book_key, page.sequence) if held else None
            if before is not None:
                # Its numbers follow a page whose count may change: publishing them as
                # proposed could name files wrongly. Editing the numbers is allowed.
                raise UsageError("review.numbers_wait", page=before.sequence)
            rgb = None
            if waiting:
                rgb = self._rgb(capture)
                for entry in waiting:
                    publish_entry(self.store, entry, rgb, capture, self._budget())
            self._teach(page, capture, rgb)
            page.recapture_requested = False
            page.reviewed_by, page.reviewed_at = name or "-", utc_now()
            self.store.save_page(page)
            settled = self._settle(book_key)
        view = self._announce(page, capture, frame)
        self._announce_settled(settled, page)
        return view

    def _teach(self, page: Page, capture: Capture, rgb: NDArray[np.uint8] | None) -> None:
        """The accepted page's cuts become its book's template; a page that cannot
        teach one (no entry, its raw capture cleaned away or unreadable) leaves the
        book's template as it was, and is accepted all the same."""
        try:
            pixels = self._rgb(capture) if rgb is None else rgb
            teach(self.store, page, capture, self._live(page), pixels)
        except (StationError, OSError, ValueError) as exc:
            log.warning("page %s taught no template: %s", capture.id, exc)

    def request_recapture(self, book_key: str, capture_id: str, operator: str = "") -> PageView:
        """Mark the page to be captured again: the book's next capture takes over its
        entries, keeping their numbers (published ones get a new version)."""
        _, page, capture = self._locate(book_key, capture_id)
        frame = self.frame(page, capture)
        name = self._operator_name(operator)
        with self.book_lock:
            page = self._fresh_page(page)
            if page.replaced_by:
                raise UsageError("review.replaced", capture=capture_id, other=page.replaced_by)
            page.recapture_requested = True
            page.reviewed_by, page.reviewed_at = name or "-", utc_now()
            self.store.save_page(page)
        return self._announce(page, capture, frame)

    # -- frames ------------------------------------------------------------------

    def remove_stale_temps(self) -> list[Path]:
        """Delete the view cache's temporary files a crash left (at start)."""
        return remove_stale_temps(self.data_dir / VIEWS)

    def warm(self, book_key: str, capture_id: str, rgb: NDArray[np.uint8], width: int) -> None:
        """Make a just-processed page's view frame and its ``width`` image from its
        pixels in memory, so the screen that shows it next decodes nothing."""
        _, page, capture = self._locate(book_key, capture_id)
        frame = self.frame(page, capture, rgb)
        width = snap_width(width, frame)
        path = self._cache_dir(book_key) / f"{capture_id}.w{width}.jpg"
        if not path.exists():
            write_atomic(path, render_view(rgb, frame, width))

    def frame(
        self, page: Page, capture: Capture, rgb: NDArray[np.uint8] | None = None
    ) -> ViewFrame:
        """The page's view frame: from memory, the disk, or computed once and kept
        (from ``rgb``, the capture's pixels, when the caller has them)."""
        with self._frame_lock:
            cached = self._frames.get(capture.id)
            if cached is not None:
                self._frames.move_to_end(capture.id)
                return cached
            path = self._cache_dir(page.book) / f"{capture.id}.json"
            try:
                frame = ViewFrame.from_dict(_json_load(path.read_bytes()))
            except (FileNotFoundError, ValueError, KeyError, TypeError):
                frame = self._compute(page, capture, rgb)
                try:
                    write_atomic(path, _json_dump(frame.to_dict()))
                except OSError as exc:  # a full disk: the frame is kept in memory only
                    log.warning("view frame of %s not kept on disk: %s", capture.id, exc)
            self._frames[capture.id] = frame
            while len(self._frames) > FRAMES_CACHED:
                self._frames.popitem(last=False)
            return frame

    def _compute(
        self, page: Page, capture: Capture, rgb: NDArray[np.uint8] | None = None
    ) -> ViewFrame:
        pages = get_profile(page.profile).pages_per_image
        regions = [r for e in self._live(page) for r in e.regions if r.capture_id == capture.id]
        try:
            rgb = self._rgb(capture) if rgb is None else rgb
        except (ImageError, OSError) as exc:
            log.error("capture %s unreadable, view frame is the raw image: %s", capture.id, exc)
            return identity_frame(capture.width or 1, capture.height or 1, pages)
        if not capture.width:
            capture.height, capture.width = rgb.shape[:2]
        return compute_frame(rgb, capture.dpi, pages, regions)

    # -- helpers -------------------------------------------------------------------

    def _plan(
        self, page: Page, capture: Capture, frame: ViewFrame, cuts: list[Cut], operator: str
    ) -> _Plan:
        """Check the cuts against the book and decide what each does (no change yet)."""
        store = self.store
        current = self._live(page)
        boxes = {e.id: self._box(e, capture, frame) for e in current}
        for cut in cuts:
            if cut.entry_id is not None and cut.entry_id not in boxes:
                raise NotFoundError("review.not_on_page", entry=cut.entry_id, capture=capture.id)
        # A held entry's number is provisional (processing.numbering): not in the way.
        others = [
            e.number
            for e in store.list_entries(page.book)
            if e.status is not EntryStatus.WITHDRAWN
            and e.id not in boxes
            and not numbering.provisional(e)
        ]
        check_duplicates(cuts, others)
        matched = match_cuts(cuts, boxes, {e.id: e.number for e in current})
        by_id = {e.id: e for e in current}
        in_review = any(e.status is EntryStatus.REVIEW for e in current)
        plan = _Plan(in_review=in_review, removed=[e for e in current if e.id not in matched])
        angle = next((r.angle for e in current for r in e.regions), 0.0)
        grid = self._grid(capture)
        for cut, entry_id in zip(cuts, matched, strict=True):
            old = by_id.get(entry_id) if entry_id else None
            item = _Item(cut, old, boxes.get(entry_id) if entry_id else None)
            item.build(page, capture, frame, angle, operator, in_review, grid)
            plan.items.append(item)
        return plan

    def _apply(
        self,
        plan: _Plan,
        page: Page,
        frame: ViewFrame,
        capture: Capture,
        rgb: NDArray[np.uint8] | None,
        operator: str,
    ) -> None:
        """Withdraw, rename, record, then publish as planned.

        Every entry and the page's list are saved before the first file is encoded, so
        an encoding failure leaves the rest in review on the page, never lost.
        """
        store = self.store
        for entry in plan.removed:
            store.withdraw(entry.id, operator)
        # Every renamed file moves aside before any is published, so numbers can swap.
        for item in plan.items:
            if item.renumbered and item.new.versions:
                item.new.versions = store.vacate(item.new.id).versions
        changed = [item for item in plan.items if item.changed]
        for item in changed:
            store.save_entry(dataclasses.replace(item.new, status=EntryStatus.REVIEW))
        page.entry_ids = plan.ordered_ids(frame)
        store.save_page(page)
        for item in changed:
            if item.new.status is not EntryStatus.REVIEW:
                assert rgb is not None  # the plan said it publishes
                item.new = publish_entry(store, item.new, rgb, capture, self._budget())

    def _announce(self, page: Page, capture: Capture, frame: ViewFrame) -> PageView:
        view = self._view(self._fresh_page(page), capture, frame)
        self.events.publish("page", page_event(view))
        self._on_book_changed(page.book)
        return view

    def _view(self, page: Page, capture: Capture, frame: ViewFrame) -> PageView:
        size = (capture.width, capture.height)
        entries = []
        for entry in self._live(page):
            region = next((r for r in entry.regions if r.capture_id == capture.id), None)
            box = None if region is None else list(frame.box_of(region, size))
            outline = None if region is None else frame.outline_of(region, size)
            entries.append(
                EntryView(
                    entry_id=entry.id,
                    number=entry.number,
                    flags=list(entry.flags),
                    status=entry.status.value,
                    box=box,
                    page_side=region.page_side if region else 0,
                    page_number=region.page_number if region else None,
                    file=entry.current.file if entry.current else None,
                    version=entry.current.version if entry.current else None,
                    outline=outline,
                )
            )
        entries.sort(key=_reading_order)
        waiting = any(e.status == EntryStatus.REVIEW.value for e in entries)
        status = "recapture" if page.recapture_requested else "review" if waiting else "accepted"
        return PageView(
            capture_id=page.capture_id,
            book=page.book,
            sequence=page.sequence,
            profile=page.profile,
            width=frame.width,
            height=frame.height,
            status=status,
            auto_accepted=status == "accepted"
            and not page.reviewed_by
            and not REVIEW_FLAGS.intersection(page.flags),
            flags=list(page.flags),
            confidence=page.confidence,
            page_numbers=list(page.page_numbers),
            entries=entries,
            recapture_requested=page.recapture_requested,
            replaces=page.replaces,
            replaced_by=page.replaced_by,
            reviewed_by=page.reviewed_by,
            reviewed_at=page.reviewed_at,
            captured_at=capture.captured_at,
            operator=capture.operator,
            dpi=capture.dpi,
            outside=list(page.outside),
            flag_details=dict(page.flag_details),
        )

    def _box(self, entry: Entry, capture: Capture, frame: ViewFrame) -> Box | None:
        region = next((r for r in entry.regions if r.capture_id == capture.id), None)
        return None if region is None else frame.box_of(region, (capture.width, capture.height))

    def _live(self, page: Page) -> list[Entry]:
        store = self.store
        entries = (store.find_entry(entry_id) for entry_id in page.entry_ids)
        return [e for e in entries if e is not None and e.status is not EntryStatus.WITHDRAWN]

    def _settle(self, book_key: str) -> numbering.Settled:
        """Number the pages held behind this book's pages in review, now that one was
        reviewed, and publish those nothing else holds (book lock held)."""
        store = self.store
        book = store.get_book(book_key)
        settled = numbering.settle(store, book_key, book.first_entry, REVIEW_FLAGS)
        for page in settled.publishable:
            capture = store.get_capture(page.capture_id)
            waiting = [e for e in self._live(page) if e.status is EntryStatus.REVIEW]
            if capture is None or not waiting:
                continue
            try:
                rgb = self._rgb(capture)
            except (ImageError, OSError) as exc:  # it stays in review, its file unmade
                log.error("capture %s unreadable, page left in review: %s", capture.id, exc)
                continue
            for entry in waiting:
                try:
                    publish_entry(store, entry, rgb, capture, self._budget())
                except StationError as exc:  # it stays in review, shown there
                    log.error("entry %s not published: %s", entry.id, exc.message("en"))
        if settled.renumbered:
            self._renumber_book(book_key)
        return settled

    def _announce_settled(self, settled: numbering.Settled, reviewed: Page) -> None:
        """Tell the screens about the pages :meth:`_settle` renumbered or released."""
        for page in settled.renumbered:
            if page.capture_id == reviewed.capture_id:
                continue
            capture = self.store.get_capture(page.capture_id)
            if capture is not None:
                self._announce(page, capture, self.frame(page, capture))

    def _renumber_book(self, book_key: str) -> None:
        """Keep ``next_entry`` just after the book's highest plain entry number."""
        store = self.store
        book = store.get_book(book_key)
        live = [
            e.number for e in store.list_entries(book_key) if e.status is not EntryStatus.WITHDRAWN
        ]
        wanted = next_entry_after(book.first_entry, live)
        if wanted != book.next_entry:
            log.info("book %s: next entry %d -> %d", book_key, book.next_entry, wanted)
            book.next_entry = wanted
            store.update_book(book)

    def next_entry_with(
        self, book_key: str, capture_id: str, numbers: list[str]
    ) -> tuple[int, int]:
        """The book's next entry number now, and what it would become if the page's
        entries were numbered ``numbers`` (the review screen asks before a change)."""
        book, page, _ = self._locate(book_key, capture_id)
        on_page = set(page.entry_ids)
        others = [
            e.number
            for e in self.store.list_entries(book_key)
            if e.status is not EntryStatus.WITHDRAWN and e.id not in on_page
        ]
        return book.next_entry, next_entry_after(book.first_entry, [*others, *map(str, numbers)])

    def _budget(self) -> int:
        return self._budget_bytes()

    def _grid(self, capture: Capture) -> StoredGrid | None:
        """The capture file's stored grid, for the outline of a re-cut in it."""
        try:
            return read_grid(self.data_dir / capture.raw_path)
        except ImageError as exc:
            log.error("capture %s unreadable, re-cuts keep no source outline: %s", capture.id, exc)
            return None

    def _rgb(self, capture: Capture) -> NDArray[np.uint8]:
        rgb, _ = load_rgb(self.data_dir / capture.raw_path, capture.raw_path)
        return rgb

    def _cache_dir(self, book_key: str) -> Path:
        return self.data_dir / VIEWS / book_key

    def _fresh_page(self, page: Page) -> Page:
        fresh = self.store.get_page(page.book, page.capture_id)
        return fresh if fresh is not None else page

    def _book(self, book_key: str) -> Book:
        if not isinstance(book_key, str) or not self.store.has_book(book_key):
            raise NotFoundError("review.unknown_book", book=str(book_key)[:40])
        return self.store.get_book(book_key)

    def _locate(self, book_key: str, capture_id: str) -> tuple[Book, Page, Capture]:
        book = self._book(book_key)
        page = None
        if isinstance(capture_id, str):
            page = self.store.get_page(book_key, capture_id)
        capture = self.store.get_capture(capture_id) if page is not None else None
        if page is None or capture is None:
            raise NotFoundError("review.unknown_page", book=book_key, capture=str(capture_id)[:60])
        return book, page, capture

    def _entry(self, entry_id: str) -> Entry:
        found = self.store.find_entry(entry_id) if isinstance(entry_id, str) else None
        if found is None:
            raise NotFoundError("review.unknown_entry", entry=str(entry_id)[:60])
        return found


@dataclass
class _Item:
    """One cut of an edit, the entry it edits (``old``; None: a new entry) and the
    entry as it will be (``new``, set by :meth:`build`)."""

    cut: Cut
    old: Entry | None
    old_box: Box | None
    new: Entry = field(init=False)
    changed: bool = True

    @property
    def renumbered(self) -> bool:
        return self.old is not None and self.old.number != self.cut.number

    def build(
        self,
        page: Page,
        capture: Capture,
        frame: ViewFrame,
        angle: float,
        operator: str,
        in_review: bool,
        grid: StoredGrid | None,
    ) -> None:
        """Work out the entry the cut asks for, and whether it differs from the old one.

        ``grid``: how the capture file stores its pixels, so the region also keeps its
        outline in that grid (as processing's regions do); None when unreadable.
        """
        cut = self.cut
        side = frame.side_of(cut.box)
        page_number = page.page_numbers[side] if side < len(page.page_numbers) else None
        region = frame.region(capture.id, cut.box, page_number, angle)
        if grid is not None:
            region = dataclasses.replace(
                region,
                source_polygon=source_polygon(region.box, region.warp, grid),
                source_orientation=grid.orientation,
            )
        if self.old is None:
            entry_id = new_id("e")
            self.new = Entry(
                id=entry_id,
                book=page.book,
                number=cut.number,
                regions=[region],
                status=EntryStatus.REVIEW if in_review else EntryStatus.PUBLISHED,
                flags=list(cut.flags),
                operator=capture.operator or operator,
                source_key=f"{capture.id}#{entry_id}",
            )
            return
        old = self.old
        moved = not same_box(cut.box, self.old_box)
        self.changed = moved or self.renumbered or set(cut.flags) != set(old.flags)
        regions = list(old.regions)
        if moved:
            regions = [region if r.capture_id == capture.id else r for r in regions]
            if all(r.capture_id != capture.id for r in regions):
                regions.append(region)
        self.new = dataclasses.replace(
            old, number=cut.number, flags=list(cut.flags), regions=regions
        )


@dataclass
class _Plan:
    """What an edit of a page does."""

    in_review: bool
    removed: list[Entry]
    items: list[_Item] = field(default_factory=list)

    @property
    def publishes(self) -> bool:
        """Whether any file is cut (a changed entry that is not in review)."""
        return any(i.changed and i.new.status is not EntryStatus.REVIEW for i in self.items)

    def ordered_ids(self, frame: ViewFrame) -> list[str]:
        """The page's entries in reading order: by page side, then top to bottom."""
        ordered = sorted(
            self.items, key=lambda i: (frame.side_of(i.cut.box), i.cut.box[1], i.cut.box[0])
        )
        return [item.new.id for item in ordered]


def _reading_order(view: EntryView) -> tuple[int, int, int, int]:
    if view.box is None:
        return (1, 0, 0, 0)
    return (0, view.page_side, view.box[1], view.box[0])


def page_event(view: PageView) -> dict[str, Any]:
    """The ``page`` event for a page view: enough for a screen to decide to refetch."""
    return {
        "capture_id": view.capture_id,
        "book": view.book,
        "status": view.status,
        "needs_review": view.needs_review,
        "entries": [
            {"entry_id": e.entry_id, "number": e.number, "status": e.status, "flags": e.flags}
            for e in view.entries
        ],
    }


def _json_load(data: bytes) -> dict[str, Any]:
    loaded = json.loads(data)
    if not isinstance(loaded, dict):
        raise ValueError("not an object")
    return loaded


def _json_dump(data: dict[str, Any]) -> bytes:
    return json.dumps(data).encode()
