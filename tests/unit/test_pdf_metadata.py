"""Entry metadata in each PDF: document info for people, XMP for reindexing."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path
from typing import Any

import pikepdf
import pytest

from station.core.errors import StoreError
from station.processing.pdf.metadata import apply_metadata
from station.store.xmp import read_metadata
from tests.support.store import image_pdf

RECORD: dict[str, Any] = {
    "schema": 1,
    "station": {"id": "st-1", "name": "Trạm 1", "office_code": "", "office_name": ""},
    "book": {"ref": {"code": "KS", "year": 2007, "number": 1}, "next_entry": 31},
    "entry": {"id": "e1", "book": "KS-2007-01", "number": "30", "operator": "Nguyễn Thị Lan"},
    "captures": [{"id": "c1", "captured_at": "2024-05-01T08:00:00Z", "sha256": "ab" * 32}],
    "pages": [],
    "version": {"version": 1, "seq": 7, "created_at": "2024-05-01T08:01:02Z", "file": "a.pdf"},
    "odd": "<tag> & \"quotes\" 'apos' ]]>",
}


def test_round_trip_and_document_info(tmp_path: Path) -> None:
    data = apply_metadata(image_pdf(), RECORD)
    assert read_metadata(data) == RECORD
    path = tmp_path / "entry.pdf"
    path.write_bytes(data)
    assert read_metadata(path) == RECORD
    with pikepdf.open(path) as pdf:
        info = {str(k): str(v) for k, v in pdf.docinfo.items()}
        meta = pdf.open_metadata()
        assert meta["dc:title"] == "KS.2007.01 - So 30"
        assert meta["xmp:CreateDate"].startswith("2024-05-01T08:01:02")
        assert meta["pdf:Producer"].startswith("ledger-station")
    assert info["/Title"] == "KS.2007.01 - So 30"
    assert info["/Creator"] == "ledger-station"
    assert info["/CreationDate"] == "D:20240501080102Z"
    assert info["/LedgerCode"] == "KS"
    assert info["/LedgerYear"] == "2007"
    assert info["/LedgerBook"] == "01"
    assert info["/EntryNumber"] == "30"
    assert info["/Operator"] == "Nguyễn Thị Lan"
    assert info["/Station"] == "st-1"
    assert info["/CaptureTime"] == "2024-05-01T08:00:00Z"
    assert info["/SourceSHA256"] == "ab" * 32
    result = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_output_is_deterministic_and_keeps_the_image() -> None:
    source = image_pdf(7)
    first, second = apply_metadata(source, RECORD), apply_metadata(source, RECORD)
    assert first == second
    with pikepdf.open(io.BytesIO(first)) as pdf:
        image = pdf.pages[0].Resources.XObject.Im0
        assert image.read_bytes() == bytes([7]) * 64


def test_rewriting_replaces_the_record() -> None:
    changed = dict(RECORD, entry=dict(RECORD["entry"], number="31"))
    data = apply_metadata(apply_metadata(image_pdf(), RECORD), changed)
    assert read_metadata(data) == changed


def test_pdf_without_our_metadata_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no ledger-station metadata"):
        read_metadata(image_pdf())
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.5\nnot really")
    with pytest.raises(StoreError) as caught:
        read_metadata(broken)
    assert "broken.pdf" in caught.value.message("vi")
