"""Scanning through python-sane from the real SANE ``test`` backend into the station.

The test backend draws a grid, not a ledger, so the pipeline proposes entries with
low confidence and keeps them for review instead of publishing PDFs; "processed" here
means the page went through the whole pipeline (raw file kept and marked done, page
and entries in the book's database) with no failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
from PIL import Image

pytest.importorskip("sane")

from station.app.station import Station
from station.capture.drivers import create_driver
from station.capture.drivers.base import DriverEvent
from station.capture.drivers.sane.scanner import SaneScanner
from station.core.config import Config
from station.core.errors import DeviceError
from station.core.models import BookRef
from tests.support.checks import RAW_SUFFIXES
from tests.support.commands import RunStation, station_env
from tests.support.sane_backend import FORCED_STATUSES, sane_test_backend

BOOK = "KS/2007/01"
#: The message key each status forced through ``read-return-value`` must produce.
EXPECTED_KEYS = {
    "SANE_STATUS_UNSUPPORTED": "sane.unsupported",
    "SANE_STATUS_CANCELLED": "sane.cancelled",
    "SANE_STATUS_DEVICE_BUSY": "sane.busy",
    "SANE_STATUS_INVAL": "sane.inval",
    "SANE_STATUS_EOF": "sane.eof",
    "SANE_STATUS_JAMMED": "sane.jammed",
    "SANE_STATUS_NO_DOCS": "sane.no_docs",
    "SANE_STATUS_COVER_OPEN": "sane.cover_open",
    "SANE_STATUS_IO_ERROR": "sane.io_error",
    "SANE_STATUS_NO_MEM": "sane.no_mem",
    "SANE_STATUS_ACCESS_DENIED": "sane.access_denied",
}


@pytest.fixture
def sane_dir(tmp_path: Path) -> Iterator[Path]:
    with sane_test_backend(tmp_path / "sane") as folder:
        yield folder


def raw_captures(data_dir: Path) -> list[Path]:
    folder = data_dir / "captures" / "KS-2007-01"
    return sorted(p for p in folder.glob("*") if p.suffix in RAW_SUFFIXES)


def assert_processed(data_dir: Path, count: int, size: tuple[int, int], dpi: int) -> None:
    """``count`` raw pages of ``size`` kept, each processed (marked done), none failed."""
    raws = raw_captures(data_dir)
    assert len(raws) == count
    for raw in raws:
        assert raw.with_name(raw.name + ".done").exists(), raw
        with Image.open(raw) as image:
            assert image.size == size
            assert [round(v) for v in image.info["dpi"]] == [dpi, dpi]
    assert not list((data_dir / "queue").glob("*.json"))
    assert not (data_dir / "queue" / "failed").exists()


@pytest.mark.parametrize(("area", "size"), [("A4", (2480, 3507)), ("A3", (3507, 4960))])
def test_station_scan_device_test0_at_300_dpi(
    run_station: RunStation, data_dir: Path, sane_dir: Path, area: str, size: tuple[int, int]
) -> None:
    env = station_env(
        data_dir,
        SANE_CONFIG_DIR=str(sane_dir),
        STATION__CAPTURE__DPI="300",
        STATION__CAPTURE__SANE__AREA=area,
        STATION__CAPTURE__SANE__MODE="gray",
    )
    result = run_station("--lang", "en", "scan", "--device", "test:0", "--book", BOOK, env=env)
    assert result.returncode == 0, result.stderr
    assert "Done: 1 pages" in result.stdout
    assert "opened SANE device test:0" in result.stderr
    assert_processed(data_dir, 1, size, 300)


def test_station_scan_feeds_a_10_sheet_batch(
    run_station: RunStation, data_dir: Path, sane_dir: Path
) -> None:
    env = station_env(
        data_dir,
        SANE_CONFIG_DIR=str(sane_dir),
        STATION__CAPTURE__SANE__SOURCE="adf",
        STATION__CAPTURE__SANE__AREA="A4",
    )
    args = ("--lang", "en", "scan", "--device", "test:0", "--book", BOOK, "--pages", "0")
    result = run_station(*args, env=env)
    assert result.returncode == 0, result.stderr
    assert "Done: 10 pages" in result.stdout
    assert_processed(data_dir, 10, (1240, 1753), 150)  # A4 at 150 dpi


def test_configured_device_fails_with_one_clear_line(
    run_station: RunStation, data_dir: Path, tmp_path: Path
) -> None:
    with sane_test_backend(tmp_path / "jam", read_status="SANE_STATUS_JAMMED") as folder:
        env = station_env(
            data_dir,
            SANE_CONFIG_DIR=str(folder),
            STATION__CAPTURE__DEVICE="sane",
            STATION__CAPTURE__DEVICE_ID="test:1",
            STATION__CAPTURE__SANE__AREA="A5",
        )
        result = run_station("scan", "--book", BOOK, env=env)
    assert result.returncode == DeviceError.exit_code, result.stderr
    assert "Giấy bị kẹt trong khay nạp của test:1" in result.stderr
    assert "Traceback" not in result.stderr
    assert raw_captures(data_dir) == []


@pytest.mark.parametrize("status", FORCED_STATUSES)
def test_pages_before_a_forced_status_are_kept_and_processed(
    station_config: Config, data_dir: Path, sane_dir: Path, status: str
) -> None:
    """Sheets 1 and 2 scan; sane_read() returns ``status`` on sheet 3."""
    events: list[DriverEvent] = []

    def fail_after_two(event: DriverEvent) -> None:
        events.append(event)
        if event.message_key == "sane.progress" and event.values["done"] == 2:
            driver.set_device_option("read-return-value", status)

    options = {"device": "test:0", "dpi": 100, "mode": "gray", "source": "adf", "area": "A4",
               "page_timeout_s": 30.0}  # fmt: skip
    driver = cast(SaneScanner, create_driver("sane", options, fail_after_two))
    with Station(station_config) as station:
        book = station.open_book(BookRef.parse(BOOK))
        try:
            with pytest.raises(DeviceError) as caught:
                station.capture(driver, book, None)
        finally:
            station.release(driver)
        assert station.wait_idle(120)
        results = list(station.results)
        pages = station.store.list_pages(book.ref.key)
    assert caught.value.key == EXPECTED_KEYS[status]
    assert caught.value.values["pages"] == 2
    assert "2" in caught.value.message("vi") and "test:0" in caught.value.message("en")
    assert_processed(data_dir, 2, (826, 1169), 100)  # A4 at 100 dpi
    assert [r.error for r in results] == [None, None]
    assert all(r.page is not None and r.entries for r in results)
    assert len(pages) == 2
    assert [e.message_key for e in events if e.kind == "state" and e.message_key] == [
        EXPECTED_KEYS[status]
    ]
