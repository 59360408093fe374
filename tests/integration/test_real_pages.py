"""`station process` on a real register page (read from ``../shared/real-pages/``).

The images are openly licensed archive scans (origin and licences in that folder's
``SOURCES.md``; this one: HTR-United/lectaurep-repertoires, LECTAUREP, CC BY 4.0, a
repertory of the Minutier central des notaires de Paris, Archives nationales). They
are never copied into the repository; without the folder the test is skipped. Cut
quality is measured by ``bench/real_pages.py``, not asserted here yet: this checks
that a real page goes through, every file fits 100,000 bytes and the report says
where each entry came from in the file's own pixel grid.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from station.store.xmp import read_metadata
from tests.support.commands import RunStation

PAGES = Path(__file__).resolve().parents[2].parent / "shared" / "real-pages"
IMAGE = "rep_dufour1_07645_L-0.jpg"  # the smallest: 2080 x 2944 greyscale microfilm
LIMIT = 100_000  # bytes; 1 KB = 1000 bytes, so a file passes whichever way one counts

pytestmark = pytest.mark.skipif(
    not (PAGES / IMAGE).is_file(),
    reason=f"real pages not found at {PAGES} (a folder 'shared' beside the repository)",
)


def test_a_real_page_goes_through_within_budget_with_source_polygons(
    run_station: RunStation, tmp_path: Path
) -> None:
    truth = json.loads((PAGES / IMAGE).with_suffix(".json").read_text(encoding="utf-8"))
    out, report_path = tmp_path / "out", tmp_path / "report.json"
    result = run_station(
        "process", str(PAGES / IMAGE), "--book", "KS/2007/01", "--profile", truth["profile"],
        "--first-entry", "1", "--out", str(out), "--report", str(report_path),
    )  # fmt: skip
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert result.returncode == 0, result.stderr
    with Image.open(PAGES / IMAGE) as stored:
        width, height = stored.size
    (image,) = report["images"]
    assert image["orientation"] == 1 and image["upright_turns"] in range(4)
    written = [e for e in report["entries"] if e["file"]]
    assert written
    for entry in written:
        data = (out / entry["file"]).read_bytes()
        assert len(data) == entry["bytes"] <= LIMIT, entry
        polygon = entry["polygon"]
        # Four corners in the stored grid: on (or a margin's width off) the image.
        assert len(polygon) == 4
        assert all(-0.05 * width <= x <= 1.05 * width for x, _ in polygon), polygon
        assert all(-0.05 * height <= y <= 1.05 * height for _, y in polygon), polygon
        region = read_metadata(data)["entry"]["regions"][0]
        assert region["source_polygon"] == polygon and region["source_orientation"] == 1
