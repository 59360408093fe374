"""`station process --template`: a confirmed page (truth JSON or a --report) or an
exported book template cuts a run's pages; `station template export`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from station.capture.drivers.simulated.render.page import RenderSpec, render_page
from station.core.layouts import get_profile
from station.processing.batch.template_file import read_template
from tests.support.commands import RunStation

DPI = 150
ARGS = ("--book", "KS/2007/01", "--profile", "spread-2", "--first-entry", "1")


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three spreads of one printed book; the first with its cuts as a confirmed page."""
    folder = tmp_path_factory.mktemp("book")
    pages = folder / "pages"
    pages.mkdir()
    for index in range(3):
        page = render_page(RenderSpec(profile="spread-2", dpi=DPI, seed=5, page_index=index))
        target = folder if index == 0 else pages
        page.image.save(target / f"p{index}.png", dpi=(DPI, DPI))
        if index == 0:
            entries = [{"polygon": [list(p) for p in e.polygon]} for e in page.entries]
            truth = {"image": "p0.png", "entries": entries}
            (folder / "p0.json").write_text(json.dumps(truth), encoding="utf-8")
    return folder


def _process(run: RunStation, work: Path, *args: str | Path) -> tuple[Any, dict[str, Any]]:
    report = work / "report.json"
    result = run("--lang", "en", "process", *map(str, args), "--report", str(report))
    return result, json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}


def test_a_confirmed_page_cuts_the_run_by_its_template(
    run_station: RunStation, book: Path, tmp_path: Path
) -> None:
    result, report = _process(
        run_station, tmp_path, book / "pages", *ARGS, "--out", tmp_path / "out",
        "--template", book / "p0.json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert [len(i["flags"]) and "template_used" in i["flags"] for i in report["images"]] == [
        True,
        True,
    ]
    assert all(i["template_refused"] == "" for i in report["images"])
    assert [e["number"] for e in report["entries"]] == ["1", "2", "3", "4"]
    assert all("template_used" in e["flags"] and not e["review"] for e in report["entries"])
    # Without it, the same pages are cut on their own evidence alone.
    plain, alone = _process(run_station, tmp_path, book / "pages", *ARGS, "--out", tmp_path / "o2")
    assert plain.returncode == 0 and all("template_used" not in i["flags"] for i in alone["images"])


def test_a_report_is_a_confirmed_page_too(
    run_station: RunStation, book: Path, tmp_path: Path
) -> None:
    first = tmp_path / "first"
    first.mkdir()
    done, _ = _process(run_station, first, book / "p0.png", *ARGS, "--out", first / "out")
    assert done.returncode == 0, done.stderr
    result, report = _process(
        run_station, tmp_path, book / "pages" / "p1.png", *ARGS, "--out", tmp_path / "out",
        "--template", first / "report.json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "template_used" in report["images"][0]["flags"]


def test_an_exported_book_template_cuts_the_run(
    run_station: RunStation, book: Path, tmp_path: Path
) -> None:
    # What `station template export` writes: the store's plain data of a template.
    learnt = read_template(book / "p0.json", get_profile("spread-2"))
    exported = tmp_path / "KS-2007-01.template.json"
    exported.write_text(json.dumps(learnt.to_dict()), encoding="utf-8")
    result, report = _process(
        run_station, tmp_path, book / "pages", *ARGS, "--out", tmp_path / "out",
        "--template", exported,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert all("template_used" in i["flags"] for i in report["images"])


def test_bad_templates_and_a_book_without_one_are_one_line_each(
    run_station: RunStation, book: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"kind": "fixed", "regions": []}', encoding="utf-8")
    result, report = _process(
        run_station, tmp_path, book / "pages", *ARGS, "--out", tmp_path / "out", "--template", bad
    )
    assert result.returncode == 64 and not report  # refused before any image is read
    assert result.stderr.strip().startswith("Cannot read the template"), result.stderr
    assert "Traceback" not in result.stderr
    missing = run_station("--lang", "vi", "template", "export", "--book", "KS/2007/01",
                          str(tmp_path / "t.json"))  # fmt: skip
    assert missing.returncode == 64 and "chưa có mẫu" in missing.stderr
    assert not (tmp_path / "t.json").exists()
