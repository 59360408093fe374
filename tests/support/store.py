"""Shared by the store tests: a station identity, a simple namer, tiny PDFs, and the
store's whole index as plain data (to compare before and after a reindex)."""

from __future__ import annotations

import io
from pathlib import PurePosixPath
from typing import Any

import pikepdf

from station.core.models import Book, Capture, Entry, StationInfo
from station.store import Store

STATION = StationInfo("st-1", "Test station", "12345", "Xã Thử")


def namer(book: Book, entry: Entry) -> PurePosixPath:
    """Default-preset-like names without the naming module, to test the store alone."""
    stem = f"{book.ref.code}.{book.ref.year}.{book.ref.number:02d}"
    return PurePosixPath(f"{book.ref.code}/{stem}/{stem}.{entry.number}.pdf")


def image_pdf(shade: int = 128) -> bytes:
    """A one-page PDF with an 8x8 grey image, made without the encoder; ``shade``
    makes each one distinct."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(72, 72))
    image = pikepdf.Stream(pdf, bytes([shade % 256]) * 64)
    image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    image.Width, image.Height, image.BitsPerComponent = 8, 8, 8
    image.ColorSpace = pikepdf.Name.DeviceGray
    pdf.pages[0].Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
    pdf.pages[0].Contents = pikepdf.Stream(pdf, b"q 72 0 0 72 0 0 cm /Im0 Do Q")
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def store_index(store: Store) -> dict[str, Any]:
    """Books, captures, pages, entries and the feed as plain data, in a stable order.

    Read through the store's public methods; the captures are those a page or an
    entry's region refers to (a capture nothing refers to yet is left out).
    """
    books = store.list_books()
    pages = [page for book in books for page in store.list_pages(book.ref.key)]
    entries = [entry for book in books for entry in store.list_entries(book.ref.key)]
    ids = {page.capture_id for page in pages}
    ids |= {region.capture_id for entry in entries for region in entry.regions}
    captures = [c for c in map(store.get_capture, sorted(ids)) if c is not None]
    return {
        "books": [book.to_dict() for book in books],
        "captures": [capture.to_dict() for capture in _by_id(captures)],
        "pages": sorted((page.to_dict() for page in pages), key=lambda p: p["capture_id"]),
        "entries": sorted((entry.to_dict() for entry in entries), key=lambda e: e["id"]),
        "feed": [event.to_dict() for event in store.feed.all()],
    }


def _by_id(captures: list[Capture]) -> list[Capture]:
    return sorted(captures, key=lambda capture: capture.id)
