"""`station process` end to end: folders of page images in, named entry PDFs and a report out.

Page images come from the simulated scanner at 150 dpi (quick to render and cut); bad
inputs are made here: a truncated JPEG, a text file named .jpg and a PNG bomb.
"""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from pathlib import Path
from typing import Any

import pikepdf
import pytest

from station.capture.drivers.simulated.render.page import RenderSpec, entry_counts, render_page
from station.store.xmp import read_metadata
from tests.support.checks import qpdf_ok
from tests.support.commands import RunStation

DPI = 150
FOLDER = "KS/2007.01"


def _render(profile: str, index: int, *, camera: bool = False) -> Any:
    spec = RenderSpec(profile=profile, dpi=DPI, seed=11, page_index=index, camera=camera)
    return render_page(spec).image


def _bomb_png(path: Path, side: int = 30_000) -> None:
    """A real decompression bomb: a 30000 x 30000 bilevel PNG of zeros, about 110 KB."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    packer = zlib.compressobj(9)
    row = bytes(1 + side // 8)
    idat = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat)
    path.write_bytes(png + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def spreads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Spread photos and scans, JPEG and PNG, with three bad files among them."""
    folder = tmp_path_factory.mktemp("spreads")
    _render("spread-2", 0).save(folder / "IMG_1.jpg", quality=88)  # no dpi: estimated
    good = _render("spread-2", 1)
    good.save(folder / "IMG_3.png", dpi=(DPI, DPI))
    buffer = folder / "whole.jpg"
    good.save(buffer, quality=88)
    data = buffer.read_bytes()
    buffer.unlink()
    (folder / "IMG_2.jpg").write_bytes(data[: len(data) // 2])  # copy cut short
    (folder / "IMG_4.jpg").write_text("not a photo", encoding="utf-8")
    _bomb_png(folder / "IMG_10.png")
    _render("spread-2", 2, camera=True).save(folder / "IMG_11.jpg", quality=88)
    (folder / "notes.txt").write_text("ignored: not an image name", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def stacked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("stacked")
    _render("stacked", 0).save(folder / "p1.png", dpi=(DPI, DPI))
    _render("stacked", 1).save(folder / "p2.jpg", quality=90, dpi=(DPI, DPI))
    return folder


def _process(run: RunStation, *args: str | Path) -> tuple[Any, dict[str, Any]]:
    report = Path(str(args[args.index("--out") + 1])).parent / "report.json"
    result = run("process", *map(str, args), "--report", str(report))
    return result, json.loads(report.read_text(encoding="utf-8"))


def _check_files(out: Path, report: dict[str, Any], budget: int) -> list[Path]:
    """Every written entry matches its file; every file is a sound PDF within budget."""
    files = []
    for row in report["entries"]:
        if not row["file"]:
            continue
        path = out / row["file"]
        data = path.read_bytes()
        assert len(data) == row["bytes"] <= budget, row
        assert hashlib.sha256(data).hexdigest() == row["sha256"]
        assert qpdf_ok(path), path
        record = read_metadata(path)
        assert record["entry"]["number"] == row["number"]
        assert record["book"]["ref"] == {"code": "KS", "year": 2007, "number": 1}
        # Where the entry came from, in the source file's grid: report and file agree.
        region = record["entry"]["regions"][0]
        assert len(row["polygon"]) == 4 and region["source_polygon"] == row["polygon"]
        files.append(path)
    return files


def test_spreads_bad_images_skipped_others_written(
    run_station: RunStation, spreads: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    args = (spreads, "--book", "KS/2007/01", "--profile", "spread-2", "--first-entry", "1")
    result, report = _process(run_station, *args, "--out", out)
    assert result.returncode == 65, result.stderr  # ImageError's code
    names = [Path(i["source"]).name for i in report["images"]]
    assert names == ["IMG_1.jpg", "IMG_2.jpg", "IMG_3.png", "IMG_4.jpg", "IMG_10.png", "IMG_11.jpg"]
    failed = {Path(i["source"]).name: i["error"]["key"] for i in report["images"] if i["error"]}
    assert failed == {
        "IMG_2.jpg": "image.corrupt",
        "IMG_4.jpg": "image.not_image",
        "IMG_10.png": "image.too_large",
    }
    for name in failed:  # one clear line each, no traceback
        assert sum(name in line for line in result.stderr.splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
    # spread-2 holds two entries per image, so an unreadable one keeps its two numbers.
    numbers = [e["number"] for e in report["entries"]]
    assert numbers == ["1", "2", "5", "6", "11", "12"]
    assert [i["reserved_numbers"] for i in report["images"] if i["error"]] == [
        ["3", "4"],
        ["7", "8"],
        ["9", "10"],
    ]
    files = _check_files(out, report, 100 * 1000)
    assert sorted(p.relative_to(out).as_posix() for p in files) == sorted(
        f"{FOLDER}/KS.2007.01.{n}.pdf" for n in numbers
    )
    assert {(e["page_side"], e["page_number"]) for e in report["entries"][:2]} == {(0, 1), (1, 2)}
    assert all(set(i["timings"]) >= {"decode", "total"} for i in report["images"])
    with pikepdf.open(files[0]) as pdf:
        assert str(pdf.docinfo["/EntryNumber"]) == "1"


def test_stacked_numbers_continue_across_images(
    run_station: RunStation, stacked: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    args = (stacked, "--book", "KS/2007/01", "--profile", "stacked", "--first-entry", "40")
    result, report = _process(run_station, *args, "--out", out)
    assert result.returncode == 0, result.stderr
    expected = sum(sum(entry_counts("stacked", 11, k)) for k in (0, 1))
    numbers = [int(e["number"]) for e in report["entries"]]
    assert numbers == list(range(40, 40 + expected))
    assert [e["image"] for e in report["entries"]] == sorted(e["image"] for e in report["entries"])
    assert len(_check_files(out, report, 100 * 1000)) == expected
    assert report["summary"]["errors"] == 0


def test_existing_files_are_never_overwritten(
    run_station: RunStation, stacked: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    (out / FOLDER).mkdir(parents=True)
    mine = out / FOLDER / "KS.2007.01.1.pdf"
    mine.write_bytes(b"somebody's file")
    other_case = out / FOLDER / "ks.2007.01.2.PDF"  # the same name on a Windows entry PC
    other_case.write_bytes(b"another file")
    args = (stacked / "p1.png", "--book", "KS/2007/01", "--profile", "stacked")
    result, report = _process(run_station, *args, "--first-entry", "1", "--out", out)
    assert result.returncode == 73, result.stderr
    assert mine.read_bytes() == b"somebody's file"
    assert other_case.read_bytes() == b"another file"
    refused = [e["number"] for e in report["entries"] if e["error"]]
    assert refused == ["1", "2"]
    assert all(e["error"]["key"] == "batch.exists" for e in report["entries"] if e["error"])
    assert len(_check_files(out, report, 100 * 1000)) == len(report["entries"]) - 2
    assert "KS.2007.01.1.pdf" in result.stderr


def test_budget_kb_is_honoured(run_station: RunStation, spreads: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = (spreads / "IMG_3.png", "--book", "KS/2007/01", "--profile", "spread-2")
    result, report = _process(
        run_station, *args, "--first-entry", "7", "--budget-kb", "24", "--out", out
    )
    assert result.returncode == 0, result.stderr
    assert report["budget_bytes"] == 24 * 1000
    assert len(_check_files(out, report, 24 * 1000)) == 2
    too_small = run_station("process", str(spreads), "--book", "KS/2007/01", "--first-entry", "1")
    assert too_small.returncode == 2  # --out is required: argparse's usage error
    tiny = run_station(
        "--lang", "en", "process", str(spreads / "IMG_3.png"), "--book", "KS/2007/01",
        "--first-entry", "1", "--out", str(out), "--budget-kb", "5",
    )  # fmt: skip
    assert tiny.returncode == 64 and "--budget-kb must be at least 20" in tiny.stderr


@pytest.mark.parametrize("budget_kb", [20, 30])
def test_every_file_is_within_budget_or_flagged_and_counted(
    run_station: RunStation, spreads: Path, tmp_path: Path, budget_kb: int
) -> None:
    """As for captures (test_scan_cli): within the budget with the record, or flagged
    ``over_budget`` in the report and the record, and counted among files to review."""
    out = tmp_path / "out"
    args = (spreads / "IMG_3.png", spreads / "IMG_11.jpg", "--book", "KS/2007/01")
    result, report = _process(
        run_station, *args, "--first-entry", "1", "--budget-kb", str(budget_kb), "--out", out
    )
    written = [row for row in report["entries"] if row["file"]]
    assert len(written) == 4
    over = [row for row in written if "over_budget" in row["flags"]]
    # A file over budget is named and makes the run fail (exit 4); else the run is clean.
    assert result.returncode == (4 if over else 0), result.stderr
    assert report["summary"]["over_budget"] == len(over)
    for row in over:
        assert row["file"] in result.stderr
    for row in written:
        record = read_metadata(out / row["file"])
        within = row["bytes"] <= budget_kb * 1000
        assert within or "over_budget" in row["flags"], row
        assert record["entry"]["flags"] == row["flags"]
        assert row["review"] or "over_budget" not in row["flags"], row
    assert report["summary"]["review"] == sum(1 for row in written if row["review"])


def test_flagged_pages_are_written_and_marked(
    run_station: RunStation, stacked: Path, tmp_path: Path
) -> None:
    """A stacked page under the one-entry profile is a count mismatch: its files are
    written but marked for review, and every later number is marked uncertain."""
    single = tmp_path / "single.png"
    _render("page-1", 3).save(single, dpi=(DPI, DPI))
    out = tmp_path / "out"
    args = (stacked / "p1.png", single, "--book", "KS/2007/01", "--profile", "page-1")
    result, report = _process(run_station, *args, "--first-entry", "1", "--out", out)
    assert result.returncode == 0, result.stderr
    first, *_, last = report["entries"]
    assert "count_mismatch" in report["images"][0]["flags"]
    assert first["review"] and "count_mismatch" in first["flags"]
    assert last["image"] == 2 and last["review"] and "number_uncertain" in last["flags"]
    _check_files(out, report, 100 * 1000)
    for row in (first, last):
        path = out / row["file"]
        record = read_metadata(path)
        assert record["entry"]["status"] == "review"
        assert record["entry"]["flags"] == row["flags"]
        with pikepdf.open(path) as pdf:
            flags = str(pdf.docinfo["/ReviewFlags"]).split()
        assert {"count_mismatch", "number_uncertain"} & set(flags)
    assert "count_mismatch" in result.stdout


def test_a_table_across_the_spread_gives_one_file_per_entry_over_both_pages(
    run_station: RunStation, tmp_path: Path
) -> None:
    # The register spread of tests/unit/test_spread_table.py: 29 entries, each a row
    # over both pages of the spread.
    spec = RenderSpec(
        profile="spread-table", dpi=DPI, seed=4, page_index=1, style="register",
        skew_max_deg=3.0, faded_probability=0.35,
    )  # fmt: skip
    page = render_page(spec)
    folder = tmp_path / "in"
    folder.mkdir()
    page.image.save(folder / "spread.png", dpi=(DPI, DPI))
    out = tmp_path / "out"
    args = (folder, "--book", "KS/2007/01", "--profile", "spread-table", "--first-entry", "1")
    result, report = _process(run_station, *args, "--out", out)
    assert result.returncode == 0, result.stderr
    rows = report["entries"]
    assert [row["number"] for row in rows] == [str(n) for n in range(1, len(page.entries) + 1)]
    assert page.gutter_x is not None
    for row in rows:
        xs = [x for x, _ in row["polygon"]]
        assert min(xs) < page.gutter_x < max(xs), row["number"]  # over both pages
        path = out / row["file"]
        assert len(path.read_bytes()) == row["bytes"] <= 100 * 1000
        assert qpdf_ok(path), path
        assert read_metadata(path)["entry"]["regions"][0]["source_polygon"] == row["polygon"]
