"""A running station's USB watcher and triggers, and the camera preview route."""

from __future__ import annotations

import dataclasses
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from station.app.station import Station
from station.capture.drivers.camera.driver import open_cameras
from station.capture.inputdev import INPUT_EVENT, KEY_CODES
from station.capture.triggers import TriggerEvent
from station.core import config
from station.core.models import BookRef
from station.ui.app import create_app
from tests.support.stations import TEST_APP_CONFIG

PEDAL = TriggerEvent("key", "/dev/input/event3", "KEY_B", 1.0)


def _press(code: int, when: float) -> bytes:
    return INPUT_EVENT.pack(int(when), 0, 1, code, 1) + INPUT_EVENT.pack(int(when), 0, 1, code, 0)


def _with(cfg: config.Config, **sections: dict[str, Any]) -> config.Config:
    replaced = {
        name: dataclasses.replace(getattr(cfg, name), **values) for name, values in sections.items()
    }
    return dataclasses.replace(cfg, **replaced)


def test_station_lists_usb_and_stops_its_watcher(station: Station) -> None:
    assert station.peripherals.usb is not None
    status = station.status()["peripherals"]
    assert isinstance(status["usb"], list) and status["triggers"]["enabled"] is False


def test_a_pedal_press_captures_one_page_into_the_open_book(
    station_config: config.Config, tmp_path: Path
) -> None:
    pedal = tmp_path / "event3"
    os.mkfifo(pedal)
    triggers = {"enabled": True, "devices": (str(pedal),), "debounce_ms": 0}
    with Station(_with(station_config, triggers=triggers)) as station:
        station.open_book(BookRef.parse("KS/2007/01"))
        writer = os.open(pedal, os.O_WRONLY)
        try:
            os.write(writer, _press(KEY_CODES["KEY_B"], 10.0))
            assert station.peripherals.wait_triggered(1)
            assert station.status()["peripherals"]["triggers"]["devices"] == [str(pedal)]
        finally:
            os.close(writer)
        assert station.wait_idle(120)
        [result] = station.results
        assert result.error is None and result.entries
        notices = station.status()["peripherals"]["notices"]
        assert notices[-1]["key"] == "trigger.captured"


def test_a_press_without_an_open_book_is_a_notice(station: Station) -> None:
    station.peripherals._on_trigger(PEDAL)
    assert station.peripherals.notices[-1]["key"] == "trigger.no_book"
    assert station.peripherals.triggered == 0


def test_a_press_during_a_capture_is_ignored(
    station: Station, monkeypatch: pytest.MonkeyPatch
) -> None:
    station.open_book(BookRef.parse("KS/2007/01"))
    release = threading.Event()

    def slow_capture(*args: Any, **kwargs: Any) -> list[Any]:
        release.wait(30)
        return []

    monkeypatch.setattr(station, "capture", slow_capture)
    station.peripherals._on_trigger(PEDAL)
    station.peripherals._on_trigger(PEDAL)
    release.set()
    assert station.peripherals.wait_triggered(1)
    keys = [n["key"] for n in station.peripherals.notices]
    assert keys == ["trigger.busy", "trigger.captured"]


def test_a_bad_trigger_key_disables_only_the_triggers(station_config: config.Config) -> None:
    cfg = _with(station_config, triggers={"enabled": True, "keys": ("KEY_NOPE",)})
    with Station(cfg) as station:
        assert station.peripherals.triggers is None
        assert station.peripherals.notices[-1]["key"] == "triggers.bad_key"


def test_preview_streams_jpeg_parts_from_the_camera(station_config: config.Config) -> None:
    capture = {"device": "camera", "device_id": "sim:0", "dpi": 100}
    cfg = _with(station_config, capture=capture)
    with Station(cfg) as station:
        client = create_app(station, TEST_APP_CONFIG).test_client()
        response = client.get("/preview.mjpg", buffered=False)
        assert response.status_code == 200
        assert response.mimetype == "multipart/x-mixed-replace"
        parts = iter(response.response)
        first = next(parts)
        assert first.startswith(b"--frame\r\nContent-Type: image/jpeg\r\n")
        assert b"\r\n\r\n\xff\xd8" in first
        assert open_cameras() == ["sim:0"]
        response.close()
        assert open_cameras() == []


def test_preview_is_404_in_both_languages_without_a_camera(client: FlaskClient) -> None:
    english = client.get("/preview.mjpg?lang=en")
    vietnamese = client.get("/preview.mjpg?lang=vi")
    assert english.status_code == vietnamese.status_code == 404
    assert "does not exist" in english.get_data(as_text=True)
    assert "Không tìm thấy" in vietnamese.get_data(as_text=True)


def test_preview_of_a_missing_camera_says_why(station_config: config.Config) -> None:
    capture = {"device": "camera", "device_id": "/dev/video77"}
    with Station(_with(station_config, capture=capture)) as station:
        client = create_app(station, TEST_APP_CONFIG).test_client()
        response = client.get("/preview.mjpg?lang=en")
        assert response.status_code == 400
        assert "/dev/video77" in response.get_data(as_text=True)
    assert open_cameras() == []
