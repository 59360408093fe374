"""The per-book export: a zip of the book's current PDFs plus the Ministry's Excel file.

The Excel file follows the import template of the book's ledger type
(``config/excel_templates.toml``): one row per published entry with ``so``,
``quyenSo`` and ``trangSo`` (and ``ngayDangKy`` when known) filled in, so the staff
type only the rest. A second sheet ties each row to its PDF and SHA-256.

The zip is streamed: each PDF is read (and checked against its SHA-256) only when its
turn comes, so a book of any size costs the memory of one file. The entries are the
book's as they were when the export began; a replacement meanwhile does not mix
versions (the earlier version is read from ``_versions``).
"""

from __future__ import annotations

import functools
import importlib.resources
import io
import re
import shutil
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from station.core.models import Book, Entry, EntryStatus
from station.lan.files import CHUNK, Verifier, open_version
from station.store import Store

TEMPLATES = "excel_templates.toml"
FILES_SHEET = "Tệp PDF"


@dataclass(frozen=True)
class Row:
    """One published entry in the export."""

    entry: Entry
    name: str  # its name inside the zip


def export_rows(store: Store, book: Book) -> list[Row]:
    """The book's published entries in entry-number order, with unique zip names."""
    entries = [
        e
        for e in store.list_entries(book.ref.key)
        if e.current is not None and e.status is EntryStatus.PUBLISHED
    ]
    entries.sort(key=_number_order)
    names = [PurePosixPath(_file(e)).name for e in entries]
    # Names are unique per folder; should two folders share a name, keep the paths.
    return [
        Row(entry, name if names.count(name) == 1 else _file(entry))
        for entry, name in zip(entries, names, strict=True)
    ]


def stream_zip(store: Store, book: Book, verifier: Verifier) -> Iterator[bytes]:
    """The export zip of ``book``, chunk by chunk."""
    rows = export_rows(store, book)
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_STORED) as archive:
        for row in rows:
            version = row.entry.current
            assert version is not None
            handle, _ = open_version(store, row.entry.id, version.version, verifier)
            with handle:
                info = zipfile.ZipInfo(row.name, _zip_time(version.created_at))
                # PDFs are compressed inside already; deflating them only costs time.
                with archive.open(info, "w") as member:
                    shutil.copyfileobj(handle, member, CHUNK)
            yield pipe.take()
        workbook = zipfile.ZipInfo(f"{book.ref.key}.xlsx", _zip_time(book.created_at))
        workbook.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(workbook, build_workbook(book, rows))
    yield pipe.take()


def build_workbook(book: Book, rows: list[Row]) -> bytes:
    """The Excel file of ``book`` in its ledger type's template layout."""
    from openpyxl import Workbook

    sheet_name, columns = template_for(book.ref.code)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_name)
    sheet.append(columns)
    for index, row in enumerate(rows, start=1):
        known = known_values(book, row.entry, index)
        sheet.append([known.get(column) for column in columns])
    files = workbook.create_sheet(FILES_SHEET)
    files.append(["STT", "so", "tenTep", "sha256"])
    for index, row in enumerate(rows, start=1):
        sha = row.entry.current.sha256 if row.entry.current else ""
        files.append([index, _cell(row.entry.number), row.name, sha])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def known_values(book: Book, entry: Entry, index: int) -> dict[str, Any]:
    """The template columns the station can fill for ``entry``."""
    values: dict[str, Any] = {
        "STT": index,
        "so": _cell(entry.number),
        "quyenSo": f"{book.ref.number:02d}/{book.ref.year}",
    }
    pages = entry.pages
    if pages:
        values["trangSo"] = pages[0] if len(pages) == 1 else f"{pages[0]}-{pages[-1]}"
    date = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", entry.registration_date or "")
    if date:
        values["ngayDangKy"] = f"{date[3]}.{date[2]}.{date[1]}"
    return values


def template_for(code: str) -> tuple[str, list[str]]:
    """(sheet name, columns) of the import template for ledger type ``code``."""
    data = _templates()
    ledgers = data["ledgers"]
    chosen = ledgers.get(code, ledgers["default"])
    return str(data.get("sheet", "DL Import")), [str(c) for c in chosen["columns"]]


@functools.cache
def _templates() -> dict[str, Any]:
    text = (importlib.resources.files("station.defaults") / TEMPLATES).read_text("utf-8")
    return tomllib.loads(text)


class _Pipe:
    """A write-only, unseekable file for ZipFile, emptied chunk by chunk."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        """Nothing is buffered here."""

    def close(self) -> None:
        """Nothing to release: the chunks go out through :meth:`take`."""

    def take(self) -> bytes:
        chunks, self._chunks = self._chunks, []
        return b"".join(chunks)


def _file(entry: Entry) -> str:
    return entry.current.file if entry.current else ""


def _number_order(entry: Entry) -> tuple[int, str, str]:
    match = re.match(r"\d+", entry.number)
    return (int(match.group()) if match else 1 << 30, entry.number, entry.id)


def _cell(number: str) -> int | str:
    """Entry numbers as numbers in Excel when they are plain numbers ("12a" stays text)."""
    return int(number) if number.isdigit() else number


def _zip_time(stamp: str) -> tuple[int, int, int, int, int, int]:
    match = re.match(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})", stamp or "")
    if not match or int(match[1]) < 1980:
        return (1980, 1, 1, 0, 0, 0)
    year, month, day, hour, minute, second = (int(g) for g in match.groups())
    return (year, month, day, hour, minute, second)
