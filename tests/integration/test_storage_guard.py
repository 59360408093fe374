"""Which raw captures a running station can clean: published, and acknowledged by every
collector; and the storage figures its status shows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from station.app.station import Station
from station.core import config
from station.core.models import BookRef, Entry
from station.lan.acks import AckItem, Acks
from station.lan.db import LanDB
from station.lan.pairing import Pairing
from station.system import storage_guard

BOOK = BookRef("KS", 2007, 1)


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
    entries = _capture_page(station)
    lan = LanDB.for_data_dir(station.data_dir)
    # No collector paired yet: nobody holds a copy, nothing may go.
    report = storage_guard.cleanable(station.store, station.data_dir)  # the LAN's records
    assert (report.basis, report.items) == ("acknowledged", [])

    pairing = Pairing(lan)
    collectors = []
    for name in ("PC 1", "PC 2"):
        made = pairing.request(name, "192.0.2.10")
        pairing.approve(made.request.id)
        collectors.append(pairing.poll(made.request.id, made.secret)["collector_id"])
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
