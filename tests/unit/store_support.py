"""Test doubles shared by the store tests: a station identity and a simple namer."""

from __future__ import annotations

from pathlib import PurePosixPath

from station.models import Book, Entry, StationInfo

STATION = StationInfo("st-1", "Test station", "12345", "Xã Thử")


def namer(book: Book, entry: Entry) -> PurePosixPath:
    """Default-preset-like names without the naming module, to test the store alone."""
    stem = f"{book.ref.code}.{book.ref.year}.{book.ref.number:02d}"
    return PurePosixPath(f"{book.ref.code}/{stem}/{stem}.{entry.number}.pdf")
