"""Test doubles shared by the store tests: a station identity and a simple namer."""

from __future__ import annotations

import io
from pathlib import PurePosixPath

import pikepdf

from station.core.models import Book, Entry, StationInfo

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
