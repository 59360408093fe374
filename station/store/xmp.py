"""The record's place inside a PDF: our XMP namespace and the key that holds it.

The store reads records back (``station reindex``, crash recovery, checking a publish);
processing writes them (:mod:`station.processing.pdf.metadata`), importing the names
from here, so both sides agree on one format and the dependency points down.
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from typing import Any

import pikepdf
from pikepdf.models.metadata import PdfMetadata

from station.core.errors import StoreError

log = logging.getLogger(__name__)

#: Our XMP namespace; ``.invalid`` so it can never resolve to someone else's schema.
XMP_NS = "https://ledger-station.invalid/ns/1.0/"
XMP_PREFIX = "ls"
RECORD_KEY = f"{XMP_PREFIX}:record"
CREATOR = "ledger-station"

PdfMetadata.register_xml_namespace(XMP_NS, XMP_PREFIX)


def record_text(record: dict[str, Any]) -> str:
    """The record as the XMP property holds it (compact, key-sorted JSON)."""
    return json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def read_metadata(source: Path | bytes) -> dict[str, Any]:
    """Return the record a PDF carries in its XMP.

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
