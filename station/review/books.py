"""Ledger books as the touch screen creates and lists them.

A book is created with what the operator reads on its cover (type, year, number),
the office it belongs to, its layout profile, the number of its first entry and how
many entries it should hold. Everything is checked here with a message that says what
to fix, before the store sees it.
"""

from __future__ import annotations

import logging
import threading
import unicodedata
from typing import Any

from station.core.errors import ConfigError, ConflictError, UsageError
from station.core.layouts import get_profile, load_profiles
from station.core.models import CODE_PATTERN, Book, BookRef, StationInfo
from station.store import Store, counts

log = logging.getLogger(__name__)


LAST_BOOK = "last_book"  # station setting: the book opened last, to offer "continue"


def whole(value: Any, name: str, low: int, high: int) -> int:
    """A whole number in ``low..high`` from an int or a text of digits."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise UsageError("books.bad_number", name=name, low=low, high=high)
    return value


def check_office(value: Any, default: str) -> str:
    """An office code: the station's when empty; no path characters or controls."""
    if value is None:
        return default
    text = unicodedata.normalize("NFC", str(value).strip()) if isinstance(value, str) else None
    if text is None or len(text) > 64 or any(c in "/\\" for c in text):
        raise UsageError("books.bad_office", value=str(value)[:70])
    if any(unicodedata.category(c).startswith("C") for c in text):
        raise UsageError("books.bad_office", value=text.encode("unicode_escape").decode()[:70])
    return text or default


def check_profile(value: Any, default: str) -> str:
    """A known layout profile's name (the default when empty)."""
    name = value or default
    try:
        return get_profile(str(name)).name
    except ConfigError as exc:
        known = ", ".join(sorted(load_profiles()))
        raise UsageError("books.bad_profile", value=str(name)[:40], known=known) from exc


def create_book(
    store: Store,
    book_lock: threading.RLock,
    station: StationInfo,
    default_profile: str,
    type: str,
    year: int,
    book: int,
    office: str | None = None,
    profile: str | None = None,
    first_entry: int = 1,
    expected: int | None = None,
) -> Book:
    """Create a book (the caller opens it); see :meth:`TouchApi.create_book`."""
    code = type.strip().upper() if isinstance(type, str) else ""
    if not CODE_PATTERN.match(code):
        raise UsageError("books.bad_type", value=str(type)[:10])
    ref = BookRef(code, whole(year, "year", 1800, 2200), whole(book, "book", 1, 999))
    office_code = check_office(office, station.office_code)
    first = whole(first_entry, "first_entry", 1, 999_999)
    blank = expected is None or (isinstance(expected, str) and not expected.strip())
    count = None if blank else whole(expected, "expected", 1, 100_000)
    new = Book(
        ref=ref,
        office_code=office_code,
        office_name=station.office_name if office_code == station.office_code else "",
        profile=check_profile(profile, default_profile),
        first_entry=first,
        next_entry=first,
        expected_entries=count,
    )
    with book_lock:
        if store.has_book(ref.key):
            raise ConflictError("books.exists", book=str(ref))
        store.create_book(new)
    log.info("book %s created from the touch screen", ref.key)
    return new


def list_books(store: Store, current_book: str | None) -> list[dict[str, Any]]:
    """Every book with its counts, the open one and the one opened last marked."""
    last = store.get_setting(LAST_BOOK)
    rows = []
    for book in store.list_books():
        key = book.ref.key
        rows.append(
            {
                **book.to_dict(),
                "key": key,
                "label": str(book.ref),
                **book_counts(store, key),
                "current": key == current_book,
                "last_opened": key == last,
            }
        )
    return rows


def book_counts(store: Store, key: str) -> dict[str, int]:
    """The counts the ``book`` event carries (:mod:`station.store.counts`)."""
    return counts.book_counts(store, key).to_dict()
