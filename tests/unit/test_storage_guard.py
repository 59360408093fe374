"""Storage safety: the reserve refuses captures before writing, the levels the screen shows,
and which raw captures can be cleaned (published, and acknowledged by every collector)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
from PIL import Image

from station.app.station import Station
from station.capture.drivers.base import CapturedImage
from station.capture.intake import Intake
from station.core import config, diskspace
from station.core.errors import DiskFullError
from station.core.models import BookRef, Entry
from station.system import storage_guard

MB = 1024 * 1024
BOOK = BookRef("KS", 2007, 1)


class Usage(NamedTuple):
    total: int
    used: int
    free: int


@pytest.fixture
def free_mb(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Pretend the disk has ``free_mb[0]`` MB free (of 10 GB)."""
    free = [100_000]

    def usage(path: object) -> Usage:
        return Usage(10_000 * MB, 10_000 * MB - free[0] * MB, free[0] * MB)

    monkeypatch.setattr(shutil, "disk_usage", usage)
    yield free


def _page() -> CapturedImage:
    return CapturedImage(dpi=150, source="test", device="t:0", image=Image.new("RGB", (60, 40)))


def test_levels() -> None:
    def level(free: int) -> str:
        return diskspace.StorageState("/d", 10_000, free, 500, 2000).level

    assert [level(f) for f in (5000, 2000, 1999, 500, 499, 0)] == [
        "ok",
        "ok",
        "warn",
        "warn",
        "full",
        "full",
    ]
    # A warning level under the reserve warns from the reserve on.
    assert diskspace.StorageState("/d", 10_000, 499, 500, 0).level == "full"
    assert diskspace.StorageState("/d", 10_000, 600, 500, 0).level == "ok"


def test_state_for_the_screen_has_figures_and_both_languages(free_mb: list[int]) -> None:
    free_mb[0] = 1000
    state = diskspace.measure(Path("/nowhere/yet"), 500, 2000).to_dict()
    assert state["level"] == "warn"
    assert (state["free_mb"], state["used_mb"], state["total_mb"]) == (1000, 9000, 10_000)
    assert "1000 MB" in state["message"]["vi"] and "sắp đầy" in state["message"]["vi"]
    assert "1000 MB" in state["message"]["en"] and "filling up" in state["message"]["en"]


def test_the_capture_being_saved_counts_against_the_reserve(free_mb: list[int]) -> None:
    free_mb[0] = 510
    diskspace.check_room(Path("/"), 500, incoming=5 * MB)
    with pytest.raises(DiskFullError) as info:
        diskspace.check_room(Path("/"), 500, incoming=20 * MB)
    assert info.value.values == {"free_mb": 510, "reserve_mb": 500}


def test_intake_refuses_before_writing_and_keeps_what_it_has(
    data_dir: Path, free_mb: list[int]
) -> None:
    intake = Intake(data_dir, reserve_mb=500)
    kept = intake.save(_page(), BOOK, "page-1")
    before = sorted(p.relative_to(data_dir) for p in data_dir.rglob("*"))
    free_mb[0] = 400
    with pytest.raises(DiskFullError) as info:
        intake.save(_page(), BOOK, "page-1")
    assert "400 MB" in info.value.message("vi") and "500 MB" in info.value.message("en")
    assert sorted(p.relative_to(data_dir) for p in data_dir.rglob("*")) == before
    assert [job.capture.id for job in intake.queue.pending()] == [kept.capture.id]
    assert (data_dir / kept.capture.raw_path).exists()


def _config(data_dir: Path) -> config.Config:
    return config.parse(
        f"""
[storage]
data_dir = "{data_dir}"
reserve_mb = 50
warn_mb = 100
[capture]
dpi = 150
[capture.simulated]
seed = 3
[usb]
enabled = false
[lan]
enabled = false
""",
        "test",
        environ={},
    )


@pytest.fixture
def station(data_dir: Path) -> Iterator[Station]:
    with Station(_config(data_dir)) as running:
        yield running


def _capture_page(station: Station) -> list[Entry]:
    book = station.open_book(BOOK)
    driver = station.make_driver("simulated")
    try:
        [job] = station.capture(driver, book, 1)
    finally:
        station.release(driver)
    assert station.wait_idle(120)
    page = station.store.get_page(book.ref.key, job.capture.id)
    assert page is not None
    return [station.store.get_entry(entry_id) for entry_id in page.entry_ids]


def test_status_reports_storage(station: Station) -> None:
    storage = station.status()["storage"]
    assert storage["level"] in ("ok", "warn", "full")
    assert storage["reserve_mb"] == 50 and storage["warn_mb"] == 100
    assert storage["path"] == str(station.data_dir)
    assert set(storage["message"]) == {"vi", "en"}


def test_published_captures_are_cleanable_on_a_published_basis(station: Station) -> None:
    entries = _capture_page(station)
    assert entries and all(e.current is not None for e in entries)
    report = storage_guard.cleanable(station.store, station.data_dir, published_only=True)
    assert report.basis == "published"
    [item] = report.items
    assert set(item.entries) == {e.id for e in entries}
    assert item.bytes == item.path.stat().st_size > 0
    assert report.to_dict()["count"] == 1


def test_an_entry_under_review_keeps_its_raw_capture(station: Station) -> None:
    entries = _capture_page(station)
    first = entries[0]
    station.store.save_entry(Entry.from_dict({**first.to_dict(), "status": "review"}))
    assert storage_guard.cleanable(station.store, station.data_dir, published_only=True).items == []


def test_with_collectors_only_what_every_one_acknowledged_is_cleanable(station: Station) -> None:
    from station.lan.acks import AckItem, Acks
    from station.lan.db import LanDB
    from station.lan.pairing import Pairing

    entries = _capture_page(station)
    lan = LanDB.for_data_dir(station.data_dir)
    # No collector paired yet: nobody holds a copy, nothing may go.
    report = storage_guard.cleanable(station.store, station.data_dir)  # the LAN's records
    assert (report.basis, report.items) == ("acknowledged", [])

    pairing = Pairing(lan)
    collectors = []
    for name in ("PC 1", "PC 2"):
        request = pairing.request(name, "192.0.2.10")
        pairing.approve(request.id)
        collectors.append(pairing.poll(request.id)["collector_id"])
    acks = Acks(lan.folder / "acks")
    items = [AckItem(e.id, e.current.version, e.current.sha256) for e in entries if e.current]
    acks.record(collectors[0], BOOK.key, items)

    one_of_two = storage_guard.collector_acknowledgements(station.data_dir)
    assert one_of_two is not None
    report = storage_guard.cleanable(station.store, station.data_dir, one_of_two)
    assert (report.basis, report.items) == ("acknowledged", [])

    acks.record(collectors[1], BOOK.key, items)
    both = storage_guard.collector_acknowledgements(station.data_dir)
    assert both is not None
    report = storage_guard.cleanable(station.store, station.data_dir, both)
    [item] = report.items

    assert storage_guard.cleanable(station.store, station.data_dir).items == report.items
    freed = storage_guard.remove(report, station.store, station.data_dir)
    assert freed == item.bytes
    assert not item.path.exists()
    assert item.path.with_name(item.path.name + ".done").exists()  # not an orphan later
    assert storage_guard.cleanable(station.store, station.data_dir, both).items == []
    for entry in entries:  # the PDFs stay
        assert entry.current is not None
        assert station.store.published_path(entry.current.file).exists()
