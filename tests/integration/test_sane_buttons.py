"""A scanner's own buttons: SANE sensors polled between captures.

The real SANE ``test`` backend exposes read-only boolean options (sensors) once its
test options are on, as scanners expose their buttons; it cannot press them, so what
a press does is shown on a device whose sensor the test flips (the only stand-in
here: no backend in Debian presses a button by itself). Waits are on reads and
presses, never on time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

pytest.importorskip("sane")

from station.app.station import Station
from station.capture.drivers.sane import library
from station.capture.drivers.sane.buttons import CAP_SOFT_DETECT, TYPE_BOOL, ButtonPoller
from station.capture.drivers.sane.scanner import SaneScanner
from station.core.config import replace_key
from station.core.models import BookRef
from tests.support.configs import simulated_config
from tests.support.sane_backend import sane_test_backend

TEST_OPTIONS = {"enable-test-options": True}
QUIET = 60.0


@pytest.fixture
def sane_dir(tmp_path: Path) -> Iterator[Path]:
    with sane_test_backend(tmp_path / "sane") as folder:
        yield folder


def test_the_sensors_are_read_between_captures_and_let_go_for_a_capture(sane_dir: Path) -> None:
    presses: list[str] = []
    poller = ButtonPoller("test:0", lambda d, n: presses.append(n), 0.02, TEST_OPTIONS).start()
    try:
        assert poller.wait_reads(2, QUIET)
        assert poller.sensors == ["bool-hard-select-soft-detect", "bool-soft-detect"]
        # A capture opens the same device: the poller lets go of it first...
        scanner = SaneScanner({"device": "test:0", "dpi": 50, "area": "A5", "mode": "gray"})
        scanner.open()
        try:
            before = poller.reads
            pages = list(scanner.capture(1))
            assert len(pages) == 1 and pages[0].image is not None
            assert poller.reads == before  # nothing read while the capture has the device
        finally:
            scanner.close()
        # ...and reads again once it is closed.
        assert poller.wait_reads(poller.reads + 2, QUIET)
        assert presses == []  # nobody pressed anything
    finally:
        poller.stop()
    assert library.reset_library()  # every handle was closed


def test_a_device_without_sensors_starts_nothing(sane_dir: Path) -> None:
    poller = ButtonPoller("test:0", lambda d, n: None, 0.02).start()  # test options off
    try:
        scanner = SaneScanner({"device": "test:0", "dpi": 50, "area": "A5"})
        scanner.open()  # the poller holds no handle that would be in the way
        scanner.close()
        assert poller.sensors == [] and poller.reads == 0
    finally:
        poller.stop()


class _Scanner:
    """A device with one ``scan`` button the test presses (python-sane's shape)."""

    def __init__(self) -> None:
        option = SimpleNamespace(name="scan", type=TYPE_BOOL, cap=CAP_SOFT_DETECT)
        self.opt = {"scan": option}
        self.scan = False
        self.closed = threading.Event()

    def close(self) -> None:
        self.closed.set()


def test_each_press_of_the_scanner_button_captures_one_page(
    tmp_path: Path, sane_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The station set up with a SANE scanner and triggers on: its button poller is
    handed the device with a button (the stand-in above); a press captures one page
    from the real test backend, and a button held down is one press."""
    device = _Scanner()
    monkeypatch.setattr(library, "open_handle", lambda name: device)  # the poller's only
    monkeypatch.setattr(library, "close_handle", lambda handle: handle.close())
    extra = "[triggers]\nenabled = true\nbutton_poll_ms = 50\n"
    config = simulated_config(tmp_path / "data", extra)
    for key, value in (
        ("capture.device", "sane"),
        ("capture.device_id", "test:0"),
        ("capture.dpi", 50),
        ("capture.sane.area", "A5"),
        ("capture.sane.mode", "gray"),
    ):
        config = replace_key(config, key, value)
    with Station(config) as station:
        station.open_book(BookRef.parse("KS/2007/01"))
        poller = station.peripherals.buttons
        assert isinstance(poller, ButtonPoller) and poller.wait_reads(2, QUIET)
        assert poller.sensors == ["scan"]
        device.scan = True  # pressed and held over many reads
        assert station.peripherals.wait_triggered(1, QUIET)
        assert poller.wait_reads(poller.reads + 3, QUIET)  # read again after the capture
        device.scan = False
        assert poller.wait_reads(poller.reads + 2, QUIET)
        device.scan = True
        assert station.peripherals.wait_triggered(2, QUIET)
        assert station.peripherals.triggered == 2
        notices = [n["key"] for n in station.peripherals.notices]
        assert notices.count("trigger.captured") == 2, notices
        assert station.wait_idle(QUIET)
    raw = sorted((tmp_path / "data" / "captures" / "KS-2007-01").glob("c*.tif"))
    assert len(raw) == 2
