"""A real station with the simulated scanner and real processing, for the touch-UI backend
tests (review, shifts, books, settings, capture jobs)."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from station.app.station import Station
from station.app.touch import TouchApi
from station.capture.drivers.simulated.scanner import SimulatedScanner
from station.core import config
from station.review.review import PageView
from tests.support.configs import simulated_config

#: The Flask configuration every test web app is made with (``create_app(station, ...)``).
TEST_APP_CONFIG = {"TESTING": True}


def station_config(data_dir: Path, extra: str = "") -> config.Config:
    """A fast simulated station (150 dpi, no LAN, no USB watching) in ``data_dir``."""
    return simulated_config(data_dir, "[usb]\nenabled = false\n" + extra)


@contextlib.contextmanager
def running_station(data_dir: Path, extra: str = "") -> Iterator[Station]:
    """A started station in ``data_dir``, stopped on leaving."""
    with Station(station_config(data_dir, extra)) as running:
        yield running


def past_the_wizard(
    station: Station,
    admin_pin: str,
    operator_pin: str,
    name: str = "Lê Thị Hoa",
    profile: str = "spread-2",
) -> None:
    """The admin PIN set, ``name``'s shift started and book KS/2007/01 (``profile``) open,
    as the touch screens leave a station ready to scan."""
    touch = TouchApi(station)
    touch.set_admin_pin(admin_pin)
    operator = touch.add_operator(name, operator_pin)
    touch.start_shift(operator.id, operator_pin)
    touch.create_book("KS", 2007, 1, None, profile, 1, None)


def capture(station: Station, count: int = 1) -> list[PageView]:
    """Capture ``count`` pages into the open book, process them, return their views."""
    job = TouchApi(station).start_capture(count)
    assert job.wait(120), "capture did not finish"
    assert job.error is None, job.error
    assert station.wait_idle(120)
    assert station.current_book is not None
    return [TouchApi(station).page_view(station.current_book, c) for c in job.capture_ids]


def deliver_simulated(station: Station, profile: str, seed: int) -> str:
    """Deliver one simulated ``profile`` page (150 dpi) into the open book, wait until
    it is processed; its capture id."""
    scanner = SimulatedScanner({"profile": profile, "dpi": 150, "seed": seed})
    scanner.open()
    try:
        [page] = list(scanner.capture(1))
    finally:
        scanner.close()
    job = station.deliver(page)
    assert station.wait_idle(120)
    return job.capture.id


def deliver_stacked(station: Station) -> str:
    """Deliver a stacked-ledger page (three entries) into the open book; its capture id.

    Into a one-entry-per-page book this is a count mismatch: a page left in review.
    """
    return deliver_simulated(station, "stacked", seed=4)


def cuts_of(view: PageView, with_ids: bool = False) -> list[dict[str, Any]]:
    """The page's cuts as a screen sends them back."""
    cuts = []
    for entry in view.entries:
        cut: dict[str, Any] = {"box": list(entry.box or []), "number": entry.number}
        cut["flags"] = list(entry.flags)
        if with_ids:
            cut["entry_id"] = entry.entry_id
        cuts.append(cut)
    return cuts


def qpdf_check(path: Path) -> None:
    """Fail unless ``qpdf --check`` accepts the file."""
    result = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
