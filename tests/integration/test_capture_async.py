"""Captures off the request thread: one at a time station-wide, progress as events,
cancel, device faults, and the pedal sharing the same lock; real simulated scanner,
real intake and processing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from station.app.station import Station
from station.app.touch import TouchApi
from station.capture.triggers import TriggerEvent
from station.core.errors import StationBusyError, UsageError
from station.core.events import Event
from station.core.models import BookRef
from station.review.frame import SCREEN_WIDTH, snap_width
from station.review.review import VIEWS
from tests.support.events import collect, collect_until, first_of, is_event, next_of
from tests.support.stations import running_station

PEDAL = TriggerEvent("key", "/dev/input/event3", "KEY_B", 1.0)


@pytest.fixture
def station(data_dir: Path) -> Iterator[Station]:
    with running_station(data_dir) as running:
        running.open_book(BookRef.parse("KS/2007/01"))
        yield running


def _slow_device(station: Station, monkeypatch: pytest.MonkeyPatch, **faults: Any) -> None:
    """Every driver the station makes feeds slowly (and with ``faults``)."""
    make = station.make_driver

    def slow(*args: Any, **options: Any) -> Any:
        return make(*args, **{"slow_seconds": 0.3, **faults, **options})

    monkeypatch.setattr(station, "make_driver", slow)


def _entries_by_page(seen: list[Event]) -> list[tuple[Event, list[Event]]]:
    """Each ``page`` event with the ``entry`` events published since the previous page.

    The one processing worker publishes a page's entries, then the page; the capture
    thread's events may fall anywhere in between.
    """
    pages: list[tuple[Event, list[Event]]] = []
    entries: list[Event] = []
    for event in seen:
        if event.kind == "entry":
            entries.append(event)
        elif event.kind == "page":
            pages.append((event, entries))
            entries = []
    return pages


def test_a_capture_runs_in_the_background_one_at_a_time(
    station: Station, monkeypatch: pytest.MonkeyPatch
) -> None:
    _slow_device(station, monkeypatch)
    events = station.events.subscribe()
    job = TouchApi(station).start_capture(2, operator="Lan")
    assert job.running and TouchApi(station).capture_state()["running"]
    with pytest.raises(StationBusyError) as busy:
        TouchApi(station).start_capture(1)
    assert busy.value.http_status == 409
    station.peripherals._on_trigger(PEDAL)  # the pedal shares the one capture lock
    assert station.peripherals.notices[-1]["key"] == "trigger.busy"
    seen = collect_until(
        events,
        lambda seen: (
            any(is_event(e, "capture", "finished") for e in seen)
            and sum(e.kind == "page" for e in seen) == 2
        ),
    )
    started = first_of(seen, "capture", "started")
    assert started.data["job_id"] == job.id and started.data["vi"].startswith("Đang chụp")
    progress = first_of(seen, "capture", "progress")
    assert progress.data["en"] == "Scanned 1 of 2 pages"
    saved = first_of(seen, "capture", "page_saved")
    assert saved.data["pages_saved"] == 1 and saved.data["capture_id"] == job.capture_ids[0]
    finished = first_of(seen, "capture", "finished")
    assert finished.data["pages_saved"] == 2 and finished.data["en"].startswith("Saved 2 page")
    assert job.wait(60) and job.state == "finished" and job.pages_saved == 2
    pages = _entries_by_page(seen)  # each page's entries are published first
    assert [page.data["capture_id"] for page, _ in pages] == job.capture_ids
    for page, entries in pages:
        assert page.data["book"] == "KS-2007-01" and page.data["needs_review"] is False
        assert [e.data["kind"] for e in entries] == ["published", "published"]
        assert {e.data["entry_id"] for e in entries} == {
            e["entry_id"] for e in page.data["entries"]
        }
    state = TouchApi(station).capture_state()
    assert not state["running"] and state["error"] is None and state["pages_saved"] == 2
    assert state["device"]["state"] in ("idle", "offline")
    assert station.wait_idle(120)
    assert [c.operator for c in map(station.store.get_capture, job.capture_ids)] == [
        "Lan",
        "Lan",
    ]
    events.close()


def test_cancel_stops_after_the_page_being_fed_and_keeps_it(
    station: Station, monkeypatch: pytest.MonkeyPatch
) -> None:
    _slow_device(station, monkeypatch)
    events = station.events.subscribe()
    job = TouchApi(station).start_capture(None)  # the whole feeder
    next_of(events, "capture", "page_saved")
    assert TouchApi(station).cancel_capture()
    assert job.wait(60) and job.state == "cancelled"
    assert 1 <= job.pages_saved < 10 and job.error is None
    finished = next_of(events, "capture", "finished")
    assert finished.data["cancelled"] and finished.data["key"] == "capture.cancelled"
    assert not TouchApi(station).cancel_capture()
    assert station.wait_idle(120)
    pages = station.store.list_pages("KS-2007-01")
    assert len(pages) == job.pages_saved  # every page saved was processed
    again = TouchApi(station).start_capture(1)  # the lock was released
    assert again.wait(60) and again.state == "finished"
    events.close()


def test_a_device_fault_fails_the_job_with_its_message_and_keeps_earlier_pages(
    station: Station, monkeypatch: pytest.MonkeyPatch
) -> None:
    _slow_device(station, monkeypatch, slow_seconds=0.0, jam_after=1)
    events = station.events.subscribe()
    job = TouchApi(station).start_capture(3)
    seen = collect(events, "capture", "failed")
    failed = seen[-1]
    assert failed.data["key"] == "device.jammed" and "kẹt" in failed.data["vi"]
    jammed = [e.data for e in seen if e.kind == "device" and e.data["state"] == "error"]
    assert jammed and "sim:0" in jammed[0]["message"]["en"]
    assert job.wait(60) and job.state == "failed" and job.pages_saved == 1
    error = TouchApi(station).capture_state()["error"]
    assert error["key"] == "device.jammed" and "jammed" in error["en"]
    assert station.wait_idle(120) and len(station.store.list_pages("KS-2007-01")) == 1
    events.close()


def test_no_book_and_bad_counts_are_refused_before_anything_runs(station: Station) -> None:
    for count in (0, 501, True, "2"):
        with pytest.raises(UsageError):
            TouchApi(station).start_capture(count)  # type: ignore[arg-type]
    station.current_book = None
    with pytest.raises(UsageError) as no_book:
        TouchApi(station).start_capture(1)
    assert no_book.value.key == "capture.no_book"
    assert TouchApi(station).capture_state()["job_id"] is None


def test_a_processed_page_is_ready_for_the_main_screen_when_announced(station: Station) -> None:
    """The main screen fetches the page's view and image the moment it hears ``page``:
    both are made from the pixels processing already holds, before the event, so the
    request decodes nothing."""
    events = station.events.subscribe()
    job = TouchApi(station).start_capture(1)
    page = next_of(events, "page")
    assert page.data["capture_id"] == job.capture_ids[0]
    views = station.data_dir / VIEWS / "KS-2007-01"
    capture = job.capture_ids[0]
    assert (views / f"{capture}.json").is_file()
    frame = station.review.frame(
        station.store.get_page("KS-2007-01", capture),  # type: ignore[arg-type]
        station.store.get_capture(capture),  # type: ignore[arg-type]
    )
    width = snap_width(SCREEN_WIDTH, frame)
    made = (views / f"{capture}.w{width}.jpg").read_bytes()
    assert TouchApi(station).page_image("KS-2007-01", capture, SCREEN_WIDTH) == made
    events.close()
