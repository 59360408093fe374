"""Books from the touch screen, the book overview's cell states, and admin settings."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from station.app.station import Station
from station.app.touch import TouchApi
from station.core import config
from station.core.errors import ConflictError, UsageError
from station.lan.acks import AckItem
from tests.support.stations import capture, cuts_of, running_station


@pytest.fixture
def station(data_dir: Path) -> Iterator[Station]:
    with running_station(data_dir) as running:
        yield running


def test_books_are_created_checked_listed_and_opened(station: Station) -> None:
    book = TouchApi(station).create_book(
        "ks", 2017, "3", profile="spread-2", first_entry=5, expected=40
    )
    assert book.ref.key == "KS-2017-03" and book.office_code == "xa-dong-hoa"
    assert station.current_book == "KS-2017-03"
    with pytest.raises(ConflictError) as exists:
        TouchApi(station).create_book("KS", 2017, 3)
    assert exists.value.http_status == 409 and "KS/2017/03" in exists.value.message("vi")
    for bad in (
        {"type": "K1", "year": 2017, "book": 1},
        {"type": "KS", "year": 1700, "book": 1},
        {"type": "KS", "year": 2017, "book": 0},
        {"type": "KS", "year": 2017, "book": 1, "profile": "scroll"},
        {"type": "KS", "year": 2017, "book": 1, "first_entry": 0},
        {"type": "KS", "year": 2017, "book": 1, "expected": -3},
        {"type": "KS", "year": 2017, "book": 1, "office": "../etc"},
        {"type": "KS", "year": True, "book": 1},
    ):
        with pytest.raises(UsageError):
            TouchApi(station).create_book(**bad)  # type: ignore[arg-type]
    TouchApi(station).create_book("KT", 1999, 2, office="xa-khac", profile="stacked")
    rows = {row["key"]: row for row in TouchApi(station).list_books()}
    assert set(rows) == {"KS-2017-03", "KT-1999-02"}
    assert rows["KT-1999-02"]["current"] and rows["KT-1999-02"]["office_code"] == "xa-khac"
    assert rows["KS-2017-03"]["expected_entries"] == 40 and not rows["KS-2017-03"]["current"]
    station.open_book("KS-2017-03")
    rows = {row["key"]: row for row in TouchApi(station).list_books()}
    assert rows["KS-2017-03"]["current"] and rows["KS-2017-03"]["last_opened"]
    assert rows["KS-2017-03"]["next_entry"] == 5


def test_the_overview_shows_every_state(station: Station, monkeypatch: pytest.MonkeyPatch) -> None:
    TouchApi(station).create_book("KS", 2007, 1, first_entry=1, expected=8)
    first, second = capture(station, 2)  # entries 1-2 and 3-4
    # 5 is missing, 6 is written twice in the ledger, 8 is skipped: 7 carries it.
    cuts = cuts_of(second)
    cuts[0]["number"], cuts[1]["number"] = "6", "7"
    cuts[1]["flags"] = ["torn", "duplicate_number"]
    cuts[0]["flags"] = ["duplicate_number"]
    TouchApi(station).review_page("KS-2007-01", second.capture_id, cuts, "")
    cuts = cuts_of(first)
    cuts[1]["number"], cuts[1]["flags"] = "6", ["duplicate_number"]
    TouchApi(station).review_page("KS-2007-01", first.capture_id, cuts, "")
    TouchApi(station).request_recapture("KS-2007-01", second.capture_id, "")
    collected = {first.entries[0].entry_id}
    touch = TouchApi(station)
    monkeypatch.setattr(touch, "collected_entries", lambda key: collected)
    overview = touch.book_overview("KS-2007-01")
    states = {cell["number"]: cell["state"] for cell in overview["cells"]}
    assert states == {
        "1": "collected",
        "2": "missing",
        "3": "missing",
        "4": "missing",
        "5": "missing",
        "6": "rescan_requested",  # one of its two entries waits for a recapture
        "7": "rescan_requested",
        "8": "missing",
    }
    TouchApi(station).accept_page("KS-2007-01", second.capture_id, "")  # recapture no longer wanted
    overview = touch.book_overview("KS-2007-01")
    states = {cell["number"]: cell["state"] for cell in overview["cells"]}
    assert states["6"] == "duplicated" and states["7"] == "flagged"
    assert overview["counts"]["missing"] == 5 and overview["expected_last"] == 8
    cell = next(c for c in overview["cells"] if c["number"] == "1")
    assert cell["collected"] and cell["entries"][0]["file"] == "KS/2007.01/KS.2007.01.1.pdf"
    assert cell["entries"][0]["capture_id"] == first.capture_id
    assert station.store.get_book("KS-2007-01").next_entry == 8


def test_collected_entries_come_from_the_lan_acknowledgements(station: Station) -> None:
    TouchApi(station).create_book("KS", 2007, 1)
    [view] = capture(station)
    assert TouchApi(station).collected_entries("KS-2007-01") == set()  # nobody paired yet
    pairing = station.lan.pairing
    made = pairing.request("Máy nhập liệu 1", "192.0.2.7")
    pairing.approve(made.request.id)
    collector_id = pairing.poll(made.request.id, made.secret)["collector_id"]
    first, second = (station.store.get_entry(e.entry_id) for e in view.entries)
    assert first.current is not None and second.current is not None
    station.lan.acks.record(
        collector_id,
        "KS-2007-01",
        [
            AckItem(first.id, 1, first.current.sha256),
            AckItem(second.id, 1, "0" * 64),  # not what the station holds
        ],
    )
    assert TouchApi(station).collected_entries("KS-2007-01") == {first.id}
    cells = TouchApi(station).book_overview("KS-2007-01")["cells"]
    assert [c["collected"] for c in cells] == [True, False]
    assert cells[0]["state"] == "collected"
    # A new version is not collected until acknowledged again.
    cuts = cuts_of(view)
    cuts[0]["flags"] = ["torn"]
    TouchApi(station).review_page("KS-2007-01", view.capture_id, cuts, "")
    assert TouchApi(station).collected_entries("KS-2007-01") == set()


def test_settings_are_checked_written_atomically_and_applied(
    station: Station, tmp_path: Path
) -> None:
    target = tmp_path / "station.toml"
    target.write_text('[station]\nname = "Trạm 1"\n', encoding="utf-8")
    station.config_path = target
    view = TouchApi(station).settings_view()
    assert view["budget_kb"] == 100 and view["processing.budget_kb"] == 100
    assert view["naming_preset"] == "default" and "provincial" in {
        p["name"] for p in view["naming_presets"]
    }
    assert view["storage"]["free_mb"] > 0 and "captures" in view["storage"]["folders_mb"]
    changed = TouchApi(station).update_settings(
        {"budget_kb": 80, "naming_preset": "provincial", "capture.dpi": 200, "require_shift": True}
    )
    assert changed["persisted"] == str(target)
    assert changed["budget_kb"] == 80 and changed["capture_dpi"] == 200
    assert changed["require_shift"] is True
    written = tomllib.loads(target.read_text(encoding="utf-8"))
    assert written["station"]["name"] == "Trạm 1"  # other keys kept
    assert written["processing"] == {"budget_kb": 80, "naming_preset": "provincial"}
    assert config.load(target, environ={}).capture.dpi == 200
    assert station.config.processing.budget_kb == 80
    assert station.store.namer.preset.name == "provincial"  # type: ignore[attr-defined]
    for bad in (
        {"budget_kb": 5},
        {"budget_kb": "80"},
        {"naming_preset": "nope"},
        {"simulated_profile": "scroll"},
        {"log.level": "debug"},
        {"require_shift": "yes"},
    ):
        with pytest.raises(UsageError):
            TouchApi(station).update_settings(bad)
    assert station.config.processing.budget_kb == 80  # a refused change changes nothing
    # A driver's own table is changed the same way, and checked by the driver's schema.
    changed = TouchApi(station).update_settings(
        {"simulated_profile": "page-1", "capture.device": "sane"}
    )
    written = tomllib.loads(target.read_text(encoding="utf-8"))
    assert written["capture"] == {"dpi": 200, "device": "sane", "simulated": {"profile": "page-1"}}
    assert changed["simulated_profile"] == "page-1" and changed["capture.device"] == "sane"
    assert station.config.capture.options("simulated").profile == "page-1"
