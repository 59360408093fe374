"""`station scan --simulate` end to end: capture, process, name, publish, reindex."""

from __future__ import annotations

import re
from pathlib import Path

import pikepdf
import pytest

from station.store.xmp import read_metadata
from tests.support.checks import index_of, published_pdfs, qpdf_ok
from tests.support.commands import RunStation


def test_scan_writes_one_named_pdf_per_entry(run_station: RunStation, data_dir: Path) -> None:
    result = run_station("scan", "--simulate", "--book", "KS/2007/01", "--pages", "3")
    assert result.returncode == 0, result.stderr
    pdfs = published_pdfs(data_dir)
    # spread-2: one entry per page, two pages per capture.
    assert [p.relative_to(data_dir / "published").as_posix() for p in pdfs] == sorted(
        f"KS/2007.01/KS.2007.01.{n}.pdf" for n in range(1, 7)
    )
    printed = re.findall(r"Đã ghi (\S+\.pdf)", result.stdout)
    assert sorted(printed) == sorted(str(p) for p in pdfs)
    for pdf in pdfs:
        assert qpdf_ok(pdf), pdf
        assert pdf.stat().st_size <= 100 * 1000
        record = read_metadata(pdf)
        number = pdf.stem.rsplit(".", 1)[1]
        assert record["entry"]["number"] == number
        assert record["book"]["ref"] == {"code": "KS", "year": 2007, "number": 1}
        with pikepdf.open(pdf) as doc:
            assert str(doc.docinfo["/LedgerCode"]) == "KS"
            assert str(doc.docinfo["/EntryNumber"]) == number


@pytest.mark.parametrize("budget_kb", [20, 30])
def test_every_pdf_is_within_budget_or_flagged_and_counted(
    run_station: RunStation, data_dir: Path, tmp_path: Path, budget_kb: int
) -> None:
    """The budget holds for the file as written, metadata included; a file that cannot
    fit carries ``over_budget`` in its record and the summary counts it."""
    config = tmp_path / "station.toml"
    config.write_text(f"[processing]\nbudget_kb = {budget_kb}\n", encoding="utf-8")
    result = run_station(
        "--config", str(config), "scan", "--simulate", "--book", "KS/2007/01", "--pages", "3"
    )
    assert result.returncode == 0, result.stderr
    pdfs = published_pdfs(data_dir)
    assert len(pdfs) == 6
    over = 0
    for pdf in pdfs:
        flags = read_metadata(pdf)["entry"]["flags"]
        size = pdf.stat().st_size
        assert size <= budget_kb * 1000 or "over_budget" in flags, (pdf.name, size, flags)
        over += "over_budget" in flags
    assert f"6 tệp PDF ({over} vượt dung lượng)" in result.stdout


def test_reindex_reproduces_the_index_exactly(run_station: RunStation, data_dir: Path) -> None:
    assert run_station("scan", "--simulate", "--book", "KS/2007/01", "--pages", "2").returncode == 0
    assert run_station("scan", "--simulate", "--book", "KT/2010/02", "--pages", "1").returncode == 0
    before = index_of(data_dir)
    result = run_station("reindex")
    assert result.returncode == 0, result.stderr
    assert index_of(data_dir) == before
    assert len(before["books"]) == 2


def test_numbers_continue_across_runs(run_station: RunStation, data_dir: Path) -> None:
    for _ in range(2):
        result = run_station("scan", "--simulate", "--book", "KS/2007/01", "--pages", "1")
        assert result.returncode == 0, result.stderr
    names = [p.name for p in published_pdfs(data_dir)]
    assert sorted(names) == sorted(f"KS.2007.01.{n}.pdf" for n in range(1, 5))


def test_bad_book_is_one_clear_line(run_station: RunStation) -> None:
    result = run_station("scan", "--simulate", "--book", "KS-two-thousand", "--pages", "1")
    assert result.returncode == 64
    assert "LOẠI/NĂM/SỐ" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_config_names_the_key(run_station: RunStation, data_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "station.toml"
    bad.write_text("[web]\nport = 0\n", encoding="utf-8")
    result = run_station("--lang", "en", "config", "check", str(bad))
    assert result.returncode == 78
    assert "web.port = 0: expected at least 1" in result.stderr
    good = run_station("config", "check", str(Path("config/station.example.toml").resolve()))
    assert good.returncode == 0, good.stderr


def test_corrupt_database_is_reported_and_kept(run_station: RunStation, data_dir: Path) -> None:
    assert run_station("scan", "--simulate", "--book", "KS/2007/01", "--pages", "1").returncode == 0
    book_db = data_dir / "db" / "books" / "KS-2007-01.json"
    book_db.write_bytes(b'{"book": {"1": {"ref": ')
    result = run_station("scan", "--simulate", "--book", "KS/2007/01", "--pages", "1")
    assert result.returncode != 0
    assert "bị hỏng" in result.stderr and str(book_db) in result.stderr
    assert "Traceback" not in result.stderr
    assert book_db.read_bytes() == b'{"book": {"1": {"ref": '


def test_pages_fed_before_a_jam_are_kept(run_station: RunStation, data_dir: Path) -> None:
    result = run_station(
        "scan", "--simulate", "--book", "KS/2007/01", "--pages", "4", "--jam-after", "2"
    )
    assert result.returncode == 69
    assert "kẹt" in result.stderr
    assert "Traceback" not in result.stderr
    # Two spreads were fed before the jam: four entries, all published.
    assert len(published_pdfs(data_dir)) == 4
    assert "4 tệp PDF" in result.stdout
