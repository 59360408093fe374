"""Book templates in a running station: accepting a page teaches its book, the next
page is cut by the template and says so on the review screen."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from station.app.station import Station, book_template
from station.app.touch import TouchApi
from station.core.models import BookRef
from station.processing.imaging.segment import TEMPLATE_FLAG
from station.ui.scan_views import flag_help
from tests.support.commands import RunStation
from tests.support.stations import capture, running_station

BOOK = "KS-2007-01"


@pytest.fixture
def station(data_dir: Path) -> Iterator[Station]:
    with running_station(data_dir) as running:
        running.open_book(BookRef.parse("KS/2007/01"))
        yield running


def test_an_accepted_page_teaches_its_book_and_the_next_page_is_cut_by_it(
    station: Station, run_station: RunStation, tmp_path: Path
) -> None:
    [first] = capture(station)
    assert first.status == "accepted" and TEMPLATE_FLAG not in first.flags
    # Processing's own acceptance teaches nothing: only an operator's does.
    assert station.store.get_template(BOOK) is None
    TouchApi(station).accept_page(BOOK, first.capture_id, "")
    taught = station.store.get_template(BOOK)
    assert taught is not None and taught["source"] == first.capture_id
    assert taught["kind"] == "fixed" and len(taught["regions"]) == len(first.entries) == 2
    assert book_template(station.config, "KS/2007/01") == taught
    # Exported while the station runs (the book's file is read, the lock not taken).
    out = tmp_path / "template.json"
    done = run_station("--lang", "en", "template", "export", "--book", "KS/2007/01", str(out))
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text(encoding="utf-8")) == taught
    assert "2 entries, fixed" in done.stdout

    [second] = capture(station)
    assert TEMPLATE_FLAG in second.flags
    assert all(TEMPLATE_FLAG in e.flags for e in second.entries)
    assert second.status == "accepted" and [e.number for e in second.entries] == ["3", "4"]
    # The review screen's words for it, Vietnamese first.
    [said] = [f for f in flag_help(second.flags, "vi") if f["flag"] == TEMPLATE_FLAG]
    assert said["label"].startswith("Cắt theo mẫu") and said["help"]
    [said_en] = [f for f in flag_help(second.flags, "en") if f["flag"] == TEMPLATE_FLAG]
    assert "template" in said_en["label"]


def test_the_last_accepted_page_is_the_books_one_template(station: Station) -> None:
    first, second = capture(station, 2)
    api = TouchApi(station)
    api.accept_page(BOOK, first.capture_id, "")
    api.accept_page(BOOK, second.capture_id, "")
    taught = station.store.get_template(BOOK)
    assert taught is not None and taught["source"] == second.capture_id
    assert book_template(station.config, "KS/2007/09") is None  # no such book


def test_a_page_whose_capture_is_gone_is_accepted_and_teaches_nothing(
    station: Station,
) -> None:
    # Raw captures of published, collected pages may be cleaned away (storage_guard).
    [page] = capture(station)
    raw = station.store.get_capture(page.capture_id)
    assert raw is not None
    (station.data_dir / raw.raw_path).unlink()
    accepted = TouchApi(station).accept_page(BOOK, page.capture_id, "")
    assert accepted.status == "accepted"
    assert station.store.get_template(BOOK) is None
