"""The metadata record inside each published PDF, and the index rows it rebuilds.

A record holds everything the index needs about one published version: the book as it
was, the entry with its full version history, the captures and pages it came from and
the version itself (with its feed ``seq``). A file cannot hold its own hash, so the
newest version in a record has no ``sha256``/``bytes``; they are measured from the file.
"""

from __future__ import annotations

import copy
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from station.core.errors import StoreError
from station.core.models import (
    Book,
    Capture,
    Entry,
    EntryVersion,
    FeedEvent,
    FeedKind,
    Page,
    StationInfo,
)
from station.store.xmp import read_metadata

log = logging.getLogger(__name__)

SCHEMA = 1


def build_record(
    station: StationInfo,
    book: Book,
    entry: Entry,
    captures: list[Capture],
    pages: list[Page],
) -> dict[str, Any]:
    """The record for ``entry``'s newest version (its last item of ``versions``)."""
    entry_data = entry.to_dict()
    newest = entry_data["versions"][-1]
    del newest["sha256"], newest["bytes"]
    return {
        "schema": SCHEMA,
        "station": station.to_dict(),
        "book": book.to_dict(),
        "entry": entry_data,
        "captures": [c.to_dict() for c in captures],
        "pages": [p.to_dict() for p in pages],
        "version": dict(newest),
    }


@dataclass
class RecordFile:
    """A published PDF as read back: its record, hash, size and place."""

    record: dict[str, Any]
    sha256: str
    size: int
    relpath: str  # relative to the published folder

    @property
    def seq(self) -> int:
        return int(self.record["version"]["seq"])

    @property
    def version(self) -> int:
        return int(self.record["version"]["version"])

    @property
    def entry_id(self) -> str:
        return str(self.record["entry"]["id"])

    @property
    def book_key(self) -> str:
        return str(self.record["entry"]["book"])

    def book(self) -> Book:
        """The book as it was when this version was published."""
        return Book.from_dict(self.record["book"])

    def captures(self) -> list[Capture]:
        """The captures the entry was cut from."""
        return [Capture.from_dict(c) for c in self.record.get("captures", [])]

    def pages(self) -> list[Page]:
        """The pages the entry was cut from."""
        return [Page.from_dict(p) for p in self.record.get("pages", [])]

    def entry(self) -> Entry:
        """The entry as indexed after this version was published."""
        data = copy.deepcopy(self.record["entry"])
        newest = data["versions"][-1]
        newest.update(sha256=self.sha256, bytes=self.size, file=self.relpath)
        return Entry.from_dict(data)

    def event(self) -> FeedEvent:
        """The feed event that announced this version."""
        version = self.record["version"]
        entry = self.record["entry"]
        kind = FeedKind.PUBLISHED if int(version["version"]) == 1 else FeedKind.REPLACED
        return FeedEvent(
            seq=int(version["seq"]),
            kind=kind,
            entry_id=str(entry["id"]),
            book=str(entry["book"]),
            number=str(entry["number"]),
            version=int(version["version"]),
            file=str(version["file"]),
            sha256=self.sha256,
            bytes=self.size,
            at=str(version["created_at"]),
        )


def measure(data: bytes) -> tuple[str, int]:
    """SHA-256 (hex) and size of ``data``."""
    return hashlib.sha256(data).hexdigest(), len(data)


def read_record_file(published: Path, path: Path) -> RecordFile:
    """Read a published PDF's record; raises StoreError for a file without one."""
    data = path.read_bytes()
    sha, size = measure(data)
    relpath = path.relative_to(published).as_posix()
    try:
        record = read_metadata(data)
    except StoreError as exc:
        raise StoreError("pdf.no_metadata", path=relpath, detail=exc.values["detail"]) from exc
    found = RecordFile(record, sha, size, relpath)
    try:
        # Parse every part now, so a damaged record is refused here and not midway
        # through rebuilding an index.
        found.book(), found.entry(), found.event(), found.captures(), found.pages()
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise StoreError("pdf.no_metadata", path=relpath, detail=f"bad record: {exc}") from exc
    return found


def version_of(entry: Entry, number: int) -> EntryVersion | None:
    """Version ``number`` of ``entry``, if it has one."""
    return next((v for v in entry.versions if v.version == number), None)
