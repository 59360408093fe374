"""One small TinyDB per ledger book: the book itself, its captures, pages and entries.

Keeping each book in its own file keeps every write small: a commune's station holds
hundreds of books, and only the one being scanned is rewritten.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from tinydb import TinyDB, where

from station.core.errors import CorruptDatabaseError
from station.core.models import Book, Capture, Entry, Page
from station.store.storage import SafeJSONStorage

log = logging.getLogger(__name__)


class BookDB:
    """The database file of one book (``db/books/<KEY>.json``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.key = path.stem
        self._db = TinyDB(path, storage=SafeJSONStorage)

    def close(self) -> None:
        """Release the TinyDB handle (nothing is held open on disk)."""
        self._db.close()

    def _load(self, kind: str, build: Any, doc: dict[str, Any]) -> Any:
        try:
            return build(dict(doc))
        except (KeyError, TypeError, ValueError) as exc:
            raise CorruptDatabaseError(path=str(self.path), detail=f"bad {kind}: {exc}") from exc

    def book(self) -> Book | None:
        """The book record, or None for a file without one."""
        docs = self._db.table("book").all()
        return self._load("book", Book.from_dict, docs[0]) if docs else None

    def put_book(self, book: Book) -> None:
        """Store the book record (there is exactly one per file)."""
        self._db.table("book").upsert(book.to_dict(), where("ref").exists())

    def template(self) -> dict[str, Any] | None:
        """The book's template, as :meth:`put_template` stored it."""
        docs = self._db.table("template").all()
        return dict(docs[0]["template"]) if docs else None

    def put_template(self, template: dict[str, Any]) -> None:
        """Keep the book's one template (the one before is replaced)."""
        table = self._db.table("template")
        table.truncate()
        table.insert({"template": template})

    def get_capture(self, capture_id: str) -> Capture | None:
        """The capture with ``capture_id`` in this book."""
        docs = self._db.table("captures").search(where("id") == capture_id)
        return self._load("capture", Capture.from_dict, docs[0]) if docs else None

    def put_capture(self, capture: Capture) -> None:
        """Insert or update a capture by id."""
        self._db.table("captures").upsert(capture.to_dict(), where("id") == capture.id)

    def captures(self) -> list[Capture]:
        """Every capture of the book."""
        return [self._load("capture", Capture.from_dict, d) for d in self._db.table("captures")]

    def get_page(self, capture_id: str) -> Page | None:
        """The processed page made from ``capture_id``."""
        docs = self._db.table("pages").search(where("capture_id") == capture_id)
        return self._load("page", Page.from_dict, docs[0]) if docs else None

    def put_page(self, page: Page) -> None:
        """Insert or update a page by capture id."""
        cond = where("capture_id") == page.capture_id
        self._db.table("pages").upsert(page.to_dict(), cond)

    def pages(self) -> list[Page]:
        """Every page of the book."""
        return [self._load("page", Page.from_dict, d) for d in self._db.table("pages")]

    def get_entry(self, entry_id: str) -> Entry | None:
        """The entry with ``entry_id`` in this book."""
        docs = self._db.table("entries").search(where("id") == entry_id)
        return self._load("entry", Entry.from_dict, docs[0]) if docs else None

    def find_by_source(self, source_key: str) -> Entry | None:
        """The entry cut from ``source_key`` (``<capture id>#<index>``), if any."""
        docs = self._db.table("entries").search(where("source_key") == source_key)
        return self._load("entry", Entry.from_dict, docs[0]) if docs else None

    def put_entry(self, entry: Entry) -> None:
        """Insert or update an entry by id."""
        self._db.table("entries").upsert(entry.to_dict(), where("id") == entry.id)

    def entries(self) -> list[Entry]:
        """Every entry of the book."""
        return [self._load("entry", Entry.from_dict, d) for d in self._db.table("entries")]

    def load(
        self, book: Book, captures: list[Capture], pages: list[Page], entries: list[Entry]
    ) -> None:
        """Fill a new, empty file in one write per table (used by reindex)."""
        self._db.table("book").insert(book.to_dict())
        self._db.table("captures").insert_multiple(c.to_dict() for c in captures)
        self._db.table("pages").insert_multiple(p.to_dict() for p in pages)
        self._db.table("entries").insert_multiple(e.to_dict() for e in entries)


def read_template(books_dir: Path, key: str) -> dict[str, Any] | None:
    """The template of book ``key`` read from its file, without the station's lock (a
    running station writes the file by atomic rename, so a reader sees whole files)."""
    path = books_dir / f"{key}.json"
    if not path.is_file():
        return None
    book_db = BookDB(path)
    try:
        return book_db.template()
    finally:
        book_db.close()
