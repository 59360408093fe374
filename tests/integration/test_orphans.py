"""Raw captures a power cut left without a job (issue 15, M2): shown on the screen and
by `station doctor`, and cut into their book by `station resume --orphans`."""

from __future__ import annotations

from pathlib import Path

from station.app.station import Station
from station.capture.intake import list_orphans
from station.core import config
from station.core.models import BookRef
from station.system import doctor_data
from station.system.findings import Context
from station.ui import screens
from station.ui.app import create_app
from tests.support.commands import RunStation
from tests.support.images import ledger_jpeg
from tests.support.stations import TEST_APP_CONFIG

BOOK = BookRef.parse("KS/2007/01")


def test_orphans_are_shown_and_resumed(
    data_dir: Path, station_config: config.Config, run_station: RunStation
) -> None:
    with Station(station_config) as station:
        station.open_book(BOOK)
    # The power cut: a raw file written, its job never.
    raw = data_dir / "captures" / BOOK.key / "c20260101T000000000000-0000abcd.jpg"
    raw.parent.mkdir(parents=True, exist_ok=True)
    raw.write_bytes(ledger_jpeg())
    with Station(station_config) as station:  # the next start moves it aside
        assert [p.name for p in list_orphans(data_dir)] == [raw.name]
        app = create_app(station, TEST_APP_CONFIG)
        with app.test_request_context("/"):
            shown = screens.banner("en")
        assert shown is not None and "never cut" in shown["text"], shown
        assert "station resume --orphans" in shown["fix"]
    [finding] = doctor_data.check_orphans(Context(station_config, "test"))
    assert finding.status == "warn" and finding.values["count"] == 1
    assert "station resume --orphans" in finding.fix_text("en")

    resumed = run_station("--lang", "en", "resume", "--orphans")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "Queued the raw capture" in resumed.stdout
    assert list((data_dir / "published").rglob("*.pdf"))
    assert list_orphans(data_dir) == []
    assert (data_dir / "orphans" / ".requeued" / BOOK.key / raw.name).exists()  # never deleted
    assert doctor_data.check_orphans(Context(station_config, "test")) == []
    again = run_station("--lang", "en", "resume", "--orphans")
    assert again.returncode == 0 and "No raw capture was left behind" in again.stdout
