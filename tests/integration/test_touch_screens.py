"""The touch screens through Flask's test client around a real, started station.

What the end-to-end tests cannot provoke cheaply: a jammed or unplugged device, a
disk filling up, a pairing request waiting, the camera's live preview, and the words
of every screen in both languages.
"""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from station.app.station import Station
from station.app.touch import TouchApi
from station.core import messages
from station.core.diskspace import StorageState
from tests.support.events import next_of
from tests.support.stations import past_the_wizard

PIN = "4321"


@pytest.fixture
def client(client: FlaskClient, station: Station) -> FlaskClient:
    """A browser session on a station past the wizard, with a shift and a book."""
    past_the_wizard(station, PIN, PIN)
    return client


def page(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def csrf(client: FlaskClient) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page(client, "/status"))
    assert found is not None
    return found.group(1)


def state(client: FlaskClient) -> Any:
    return client.get("/api/ui/state").get_json()


def test_the_screens_go_in_order_wizard_shift_book(app: Flask, station: Station) -> None:
    client = app.test_client()
    assert client.get("/").headers["Location"].endswith("/setup/")
    assert client.get("/scan").headers["Location"].endswith("/setup/")
    assert client.get("/api/ui/state").status_code == 409  # JSON says what to do first
    TouchApi(station).set_admin_pin(PIN)
    assert client.get("/").headers["Location"].endswith("/shift")
    operator = TouchApi(station).add_operator("An", PIN)
    TouchApi(station).start_shift(operator.id, PIN)
    assert client.get("/").headers["Location"].endswith("/books")
    TouchApi(station).create_book("KH", 2001, 3, None, None, 1, None)
    assert client.get("/").headers["Location"].endswith("/scan")
    assert client.get("/setup/").headers["Location"].startswith("/admin/login")


def test_a_jammed_or_unplugged_device_says_what_to_do(
    client: FlaskClient, station: Station
) -> None:
    for key, words in (("device.jammed", "mở nắp"), ("device.unplugged", "kiểm tra cáp USB")):
        station.device.state = "error" if key == "device.jammed" else "offline"
        station.device.message_key, station.device.values = key, {"device": "sim", "pages": 3}
        banner = state(client)["banner"]
        assert banner["level"] == "bad" and words in banner["text"]
        assert words in page(client, "/scan")
        assert "state-" + station.device.state in page(client, "/books")  # every screen
    english = client.get("/api/ui/state?lang=en").get_json()["banner"]["text"]
    assert english == messages.render("device.unplugged", "en", device="sim", pages=3)


def test_a_filling_disk_warns_and_a_full_one_stops(
    client: FlaskClient, station: Station, monkeypatch: pytest.MonkeyPatch
) -> None:
    for free, level in ((120, "warn"), (20, "bad")):
        measured = StorageState(str(station.data_dir), 10_000, free, 50, 500)
        monkeypatch.setattr(station, "storage", lambda measured=measured: measured)
        banner = state(client)["banner"]
        assert banner["level"] == level and f"{free} MB" in banner["text"]


def test_a_pairing_request_shows_on_every_screen(client: FlaskClient, station: Station) -> None:
    request = station.lan.pairing.request("PC nhập liệu 2", "192.168.1.20").request
    text = state(client)["banner"]["text"]
    assert "PC nhập liệu 2" in text and request.code in text
    assert "/admin/login" in client.get("/admin/pairing").headers["Location"]  # admin PIN
    client.post("/admin/login", data={"csrf": csrf(client), "pin": PIN})
    assert request.code in page(client, "/admin/pairing")


def test_the_camera_preview_is_on_the_main_screen_only_for_a_camera(
    client: FlaskClient, station: Station, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert 'src="/preview.mjpg"' not in page(client, "/scan")
    capture = station.config.capture.__class__(device="camera", device_id="sim:0")
    monkeypatch.setattr(station, "config", station.config.__class__(capture=capture))
    assert 'src="/preview.mjpg"' in page(client, "/scan")


def test_each_screen_is_titled_in_the_chosen_language(client: FlaskClient) -> None:
    titles = {
        lang: re.findall(
            r"<title>([^<]*)</title>", page(client, f"/books/KS-2007-01/overview?lang={lang}")
        )
        for lang in ("en", "vi")
    }
    assert titles["en"] == ["Overview: Birth register 2007, book 1 · Civil-status ledger station"]
    assert titles["vi"] == ["Tổng quan: Sổ Khai sinh năm 2007, quyển số 1 · Trạm số hóa sổ hộ tịch"]
    assert "<title>Quét · " in page(client, "/scan")


def test_other_machines_need_the_admin_pin(client: FlaskClient, station: Station) -> None:
    remote = {"REMOTE_ADDR": "192.168.1.50"}
    assert client.get("/scan", environ_base=remote).headers["Location"].startswith("/admin/login")
    assert client.get("/events", environ_base=remote).status_code == 403
    assert client.get("/api/ui/state", environ_base=remote).status_code == 403
    token = csrf(client)
    client.post("/admin/login", data={"csrf": token, "pin": PIN}, environ_base=remote)
    assert client.get("/scan", environ_base=remote).status_code == 200


def test_only_the_station_itself_runs_the_first_boot_wizard(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/setup/", environ_base={"REMOTE_ADDR": "10.0.0.7"}).status_code == 403
    assert client.get("/setup/").status_code == 200


def test_a_page_shows_as_saved_at_once_and_its_cuts_follow(
    client: FlaskClient, station: Station
) -> None:
    """Between "saved" and "processed" the main screen shows the page itself (a small
    JPEG made as it was saved) and says "Đã lưu trang"; once processed, its cuts. The
    book's lock, which processing takes, holds the page between the two."""
    events = station.events.subscribe()
    with station.book_lock:
        client.post("/scan/capture", headers={"Accept": "application/json",
                                              "X-CSRF-Token": csrf(client)})  # fmt: skip
        saved_id = next_of(events, "capture", "page_saved").data["capture_id"]
        # The capture ends after its page is saved (until then the line counts pages).
        next_of(events, "capture", "finished")
        now = state(client)
        saved = now["saved_page"]
        assert saved["capture_id"] == saved_id and saved["failed"] == ""
        assert now["status_line"] == messages.render("ui.page_saved_cutting", "vi")
        image = client.get(saved["image"])
        assert image.status_code == 200 and image.mimetype == "image/jpeg"
        with Image.open(io.BytesIO(image.data)) as shown:
            width, height = saved["size"]
            assert shown.width <= 640 and abs(shown.width / shown.height - width / height) < 0.02
    page_event = next_of(events, "page")
    assert page_event.data["capture_id"] == saved_id
    after = state(client)
    assert after["saved_page"] is None and after["last_page"]["capture_id"] == saved_id
    count = len(after["last_page"]["entries"])
    assert after["status_line"] == messages.render("ui.page_saved_ready", "vi", count=count)
    events.close()
