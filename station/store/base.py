"""The store's records: books, captures, pages, entries, operators and settings.

:class:`StoreBase` holds the databases and the published folder and reads and writes
records, each under the store's one re-entrant mutex. The operations that change
several records and files at once (publish, vacate, withdraw, crash recovery) live in
their own modules and take a :class:`StoreBase`; :class:`station.store.store.Store`
puts them together with the store's life cycle (open, recover, close).
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar, cast

from tinydb import TinyDB, where

from station.core.errors import StoreError
from station.core.models import Book, Capture, Entry, Operator, Page, Shift, StationInfo
from station.store.bookdb import BookDB
from station.store.feed import DEFAULT_SEGMENT_SIZE, Feed
from station.store.lock import StationLock

log = logging.getLogger(__name__)

Namer = Callable[[Book, Entry], PurePosixPath]
P = ParamSpec("P")
R = TypeVar("R")


class _Guarded(Protocol):
    _mutex: threading.RLock


S = TypeVar("S", bound=_Guarded)


def synchronized(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
    """Run a store method under the store's re-entrant mutex (UI, API, pipeline threads)."""

    def wrapper(self: S, *args: P.args, **kwargs: P.kwargs) -> R:
        with self._mutex:
            return method(self, *args, **kwargs)

    return cast(Callable[Concatenate[S, P], R], functools.wraps(method)(wrapper))


class StoreBase:
    """The store's records and files (see the module docstring)."""

    def __init__(
        self,
        data_dir: Path,
        station: StationInfo,
        namer: Namer,
        *,
        feed_segment_size: int = DEFAULT_SEGMENT_SIZE,
    ) -> None:
        self.data_dir = data_dir
        self.station = station
        self.namer = namer
        self.db_dir = data_dir / "db"
        self.books_dir = self.db_dir / "books"
        self.published_dir = data_dir / "published"
        self._segment_size = feed_segment_size
        self._mutex = threading.RLock()
        self._lock = StationLock(data_dir)
        self._station_db: TinyDB | None = None
        self._feed: Feed | None = None
        self._books: dict[str, BookDB] = {}
        self._entry_books: dict[str, str] = {}
        self._capture_books: dict[str, str] = {}

    # -- life cycle ---------------------------------------------------------------

    @synchronized
    def close(self) -> None:
        """Release the databases and the lock; safe to call twice."""
        for book_db in self._books.values():
            book_db.close()
        self._books.clear()
        self._entry_books.clear()
        self._capture_books.clear()
        if self._station_db is not None:
            self._station_db.close()
            self._station_db = None
        self._feed = None
        self._lock.release()

    def _attach(self, book_db: BookDB) -> None:
        self._books[book_db.key] = book_db
        for capture in book_db.captures():
            self._capture_books[capture.id] = book_db.key
        for entry in book_db.entries():
            self._entry_books[entry.id] = book_db.key

    @property
    def feed(self) -> Feed:
        """The change feed (the store must be open)."""
        if self._feed is None:
            raise StoreError(path=str(self.data_dir), detail="store is not open")
        return self._feed

    @property
    def _sdb(self) -> TinyDB:
        if self._station_db is None:
            raise StoreError(path=str(self.data_dir), detail="store is not open")
        return self._station_db

    def _book_db(self, key: str) -> BookDB:
        book_db = self._books.get(key)
        if book_db is None:
            raise StoreError("store.unknown_book", book=key)
        return book_db

    # -- books ------------------------------------------------------------------

    @synchronized
    def create_book(self, book: Book) -> Book:
        """Register a new book; an existing key is an error."""
        key = book.ref.key
        if key in self._books:
            raise StoreError("store.book_exists", book=key)
        book_db = BookDB(self.books_dir / f"{key}.json")
        book_db.put_book(book)
        self._books[key] = book_db
        log.info("book %s created", key)
        return book

    @synchronized
    def get_book(self, key: str) -> Book:
        """The book with ``key`` (e.g. ``KS-2007-01``)."""
        book = self._book_db(key).book()
        if book is None:
            raise StoreError("store.unknown_book", book=key)
        return book

    def has_book(self, key: str) -> bool:
        """Whether a book with ``key`` exists."""
        return key in self._books

    @synchronized
    def list_books(self) -> list[Book]:
        """Every book, ordered by key."""
        return [self.get_book(key) for key in sorted(self._books)]

    @synchronized
    def update_book(self, book: Book) -> Book:
        """Save changes to an existing book."""
        self._book_db(book.ref.key).put_book(book)
        return book

    @synchronized
    def get_template(self, key: str) -> dict[str, Any] | None:
        """The book's template (the last accepted page's cuts, as plain data), if any."""
        return self._book_db(key).template()

    @synchronized
    def save_template(self, key: str, template: dict[str, Any]) -> None:
        """Keep ``template`` as the book's one template (replacing the one before)."""
        self._book_db(key).put_template(template)

    # -- captures and pages -----------------------------------------------------------

    @synchronized
    def add_capture(self, capture: Capture) -> Capture:
        """Record a raw capture (idempotent: the same id updates it)."""
        self._book_db(capture.book).put_capture(capture)
        self._capture_books[capture.id] = capture.book
        return capture

    @synchronized
    def get_capture(self, capture_id: str) -> Capture | None:
        """The capture with ``capture_id``, in whichever book it is, or None."""
        key = self._capture_books.get(capture_id)
        return self._book_db(key).get_capture(capture_id) if key else None

    @synchronized
    def save_page(self, page: Page) -> Page:
        """Insert or update the page made from a capture."""
        self._book_db(page.book).put_page(page)
        return page

    @synchronized
    def get_page(self, book_key: str, capture_id: str) -> Page | None:
        """The page made from ``capture_id``, if processed."""
        return self._book_db(book_key).get_page(capture_id)

    @synchronized
    def list_pages(self, book_key: str) -> list[Page]:
        """Every page of a book, in capture order."""
        return sorted(self._book_db(book_key).pages(), key=lambda p: (p.sequence, p.capture_id))

    # -- entries ------------------------------------------------------------------

    @synchronized
    def save_entry(self, entry: Entry) -> Entry:
        """Insert or update an entry (a proposal until it is published)."""
        owner = self._entry_books.get(entry.id)
        if owner is not None and owner != entry.book:
            raise StoreError("store.entry_elsewhere", entry=entry.id, book=owner, other=entry.book)
        self._book_db(entry.book).put_entry(entry)
        self._entry_books[entry.id] = entry.book
        return entry

    @synchronized
    def get_entry(self, entry_id: str) -> Entry:
        """The entry with ``entry_id`` (ids are unique station-wide)."""
        found = self.find_entry(entry_id)
        if found is None:
            raise StoreError("store.unknown_entry", entry=entry_id)
        return found

    @synchronized
    def find_entry(self, entry_id: str) -> Entry | None:
        """The entry with ``entry_id``, or None."""
        key = self._entry_books.get(entry_id)
        return self._book_db(key).get_entry(entry_id) if key else None

    @synchronized
    def all_entries(self) -> list[Entry]:
        """Every entry of every book (recovery and checks; not for request paths)."""
        return [e for key in sorted(self._books) for e in self._books[key].entries()]

    @synchronized
    def list_entries(self, book_key: str) -> list[Entry]:
        """Every entry of a book, in a stable order (by source, then id)."""
        return sorted(self._book_db(book_key).entries(), key=lambda e: (e.source_key, e.id))

    @synchronized
    def find_entry_by_source(self, book_key: str, source_key: str) -> Entry | None:
        """The entry already cut from ``source_key``: reprocessing stays idempotent."""
        if not source_key:
            return None
        return self._book_db(book_key).find_by_source(source_key)

    def published_path(self, relpath: str) -> Path:
        """The absolute path of a file named relative to the published folder."""
        return self.published_dir / PurePosixPath(relpath)

    # -- operators and settings ---------------------------------------------------------

    @synchronized
    def add_operator(self, operator: Operator) -> Operator:
        """Add an operator; an existing id is an error."""
        table = self._sdb.table("operators")
        if table.contains(where("id") == operator.id):
            raise StoreError("store.operator_exists", operator=operator.id)
        table.insert(operator.to_dict())
        return operator

    @synchronized
    def list_operators(self) -> list[Operator]:
        """Every operator, in the order added."""
        return [Operator.from_dict(dict(d)) for d in self._sdb.table("operators").all()]

    @synchronized
    def save_shift(self, shift: Shift) -> Shift:
        """Insert or update a shift by id."""
        self._sdb.table("shifts").upsert(shift.to_dict(), where("id") == shift.id)
        return shift

    @synchronized
    def list_shifts(self) -> list[Shift]:
        """Every shift, oldest first."""
        shifts = [Shift.from_dict(dict(d)) for d in self._sdb.table("shifts").all()]
        return sorted(shifts, key=lambda s: (s.started_at, s.id))

    @synchronized
    def get_setting(self, key: str, default: Any = None) -> Any:
        """A station setting kept in the database (JSON values)."""
        docs = self._sdb.table("settings").search(where("key") == key)
        return docs[0]["value"] if docs else default

    @synchronized
    def set_setting(self, key: str, value: Any) -> None:
        """Store a station setting (any JSON value)."""
        self._sdb.table("settings").upsert({"key": key, "value": value}, where("key") == key)
