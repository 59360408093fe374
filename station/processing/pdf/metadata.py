"""Entry metadata inside each PDF: document info for people, XMP for machines.

The full record (book, entry, captures, pages, version) travels as JSON in an XMP
property of our own namespace (:mod:`station.store.xmp`, which reads it back), so
``station reindex`` can rebuild the index from the files alone. The document info
carries the same facts as readable keys for anyone opening the file in a viewer.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from functools import cache
from typing import Any

import pikepdf

from station import __version__
from station.processing.pdf.compose import compose_page
from station.processing.pdf.save import save_pdf
from station.store.xmp import CREATOR, RECORD_KEY, record_text

log = logging.getLogger(__name__)

#: Slack over the measured metadata size: the encoding's name and the version's feed
#: ``seq`` are not known when the encoder's budget is set, and object-stream packing
#: varies by a few bytes.
METADATA_SLACK = 512


def title_for(record: dict[str, Any]) -> str:
    """The human title, e.g. ``KS.2007.01 - So 30``."""
    ref = record["book"]["ref"]
    number = record["entry"]["number"]
    return f"{ref['code']}.{ref['year']}.{int(ref['number']):02d} - So {number}"


def _pdf_date(iso: str) -> str:
    """ISO-8601 (``2024-01-02T03:04:05Z``) to a PDF date string (``D:20240102030405Z``)."""
    when = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return "D:" + when.astimezone(dt.UTC).strftime("%Y%m%d%H%M%S") + "Z"


def _docinfo_values(record: dict[str, Any]) -> dict[str, str]:
    """The document info keys and their text values for ``record``."""
    ref = record["book"]["ref"]
    entry = record["entry"]
    captures = record.get("captures", [])
    station = record.get("station", {})
    values = {
        "/Title": title_for(record),
        "/Subject": f"Ledger {ref['code']}/{ref['year']}/{int(ref['number']):02d}, "
        f"entry {entry['number']}",
        "/Keywords": "; ".join(
            [ref["code"], str(ref["year"]), f"{int(ref['number']):02d}", str(entry["number"])]
        ),
        "/Creator": CREATOR,
        "/Producer": f"{CREATOR} {__version__} (pikepdf {pikepdf.__version__})",
        "/LedgerCode": ref["code"],
        "/LedgerYear": str(ref["year"]),
        "/LedgerBook": f"{int(ref['number']):02d}",
        "/EntryNumber": str(entry["number"]),
        "/Station": str(station.get("id", "")),
        "/Operator": str(entry.get("operator", "")),
        "/CaptureTime": ", ".join(c["captured_at"] for c in captures),
        "/SourceSHA256": ", ".join(c["sha256"] for c in captures),
    }
    created = record.get("version", {}).get("created_at")
    if created:
        values["/CreationDate"] = _pdf_date(created)
    return values


def apply_metadata(pdf_bytes: bytes, record: dict[str, Any]) -> bytes:
    """Write ``record`` into the document info and XMP of a PDF; return the saved bytes."""
    text = record_text(record)
    with pikepdf.Pdf.open(io.BytesIO(pdf_bytes)) as pdf:
        # The record carries its own time, so the output is deterministic: no
        # "edited by pikepdf now" mark, and docinfo is set explicitly below.
        with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
            meta["dc:title"] = title_for(record)
            meta["pdf:Producer"] = f"{CREATOR} {__version__}"
            meta["xmp:CreatorTool"] = CREATOR
            created = record.get("version", {}).get("created_at")
            if created:
                meta["xmp:CreateDate"] = created
            meta[RECORD_KEY] = text
        for key, value in _docinfo_values(record).items():
            pdf.docinfo[pikepdf.Name(key)] = pikepdf.String(value)
        return save_pdf(pdf)


def metadata_reserve(record: dict[str, Any]) -> int:
    """Bytes the metadata adds to a PDF, measured on a blank page, plus slack.

    The encoder's budget is the user's budget minus this, so the finished file (PDF
    plus metadata) still fits.
    """
    blank = _blank_pdf()
    return len(apply_metadata(blank, record)) - len(blank) + METADATA_SLACK


@cache
def _blank_pdf() -> bytes:
    """One small empty page, made once (a constant, not per image)."""
    with compose_page(100.0, 100.0, None, []) as pdf:
        return save_pdf(pdf)
