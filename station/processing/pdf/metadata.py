"""Entry metadata inside each PDF: document info for people, XMP for machines.

The full record (book, entry, captures, pages, version) travels as JSON in an XMP
property of our own namespace, so ``station reindex`` can rebuild the index from the
files alone. The document info carries the same facts as readable keys for anyone
opening the file in a viewer.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
from pathlib import Path
from typing import Any

import pikepdf
from pikepdf.models.metadata import PdfMetadata

from station import __version__
from station.core import messages
from station.core.errors import StoreError
from station.processing.pdf.save import save_pdf

log = logging.getLogger(__name__)

#: Our XMP namespace; ``.invalid`` so it can never resolve to someone else's schema.
XMP_NS = "https://ledger-station.invalid/ns/1.0/"
XMP_PREFIX = "ls"
RECORD_KEY = f"{XMP_PREFIX}:record"
CREATOR = "ledger-station"

PdfMetadata.register_xml_namespace(XMP_NS, XMP_PREFIX)

messages.register(
    {
        "pdf.no_metadata": {
            "vi": "Tệp {path} không có siêu dữ liệu của trạm: {detail}",
            "en": "File {path} carries no ledger-station metadata: {detail}",
        },
    }
)


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
    text = json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
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


def read_metadata(source: Path | bytes) -> dict[str, Any]:
    """Return the record :func:`apply_metadata` wrote into a PDF.

    Raises :class:`StoreError` when the file is not a readable PDF or carries no
    ledger-station record.
    """
    label = "<bytes>" if isinstance(source, bytes) else str(source)
    stream: io.BytesIO | Path = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        with pikepdf.Pdf.open(stream) as pdf:
            meta = pdf.open_metadata()
            text = meta.get(RECORD_KEY) if RECORD_KEY in meta else None
    except (pikepdf.PdfError, OSError, ValueError) as exc:
        raise StoreError("pdf.no_metadata", path=label, detail=str(exc)) from exc
    if not text:
        raise StoreError("pdf.no_metadata", path=label, detail="no ls:record in XMP")
    try:
        record = json.loads(str(text))
    except json.JSONDecodeError as exc:
        raise StoreError("pdf.no_metadata", path=label, detail=f"bad JSON: {exc}") from exc
    if not isinstance(record, dict) or "entry" not in record or "book" not in record:
        raise StoreError("pdf.no_metadata", path=label, detail="record lacks book/entry")
    return record
