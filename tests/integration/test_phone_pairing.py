"""Phones paired by QR code, through the web app around a real station: the whole
exchange between the touch screen and a phone on the LAN, and every hostile request
answered with a clear Vietnamese message and its 4xx status, never a 500."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from station.app.station import Station
from station.app.touch import TouchApi
from station.core import config
from station.core.models import Capture
from tests.support.configs import simulated_config
from tests.support.images import jpeg_bytes, ledger_jpeg
from tests.support.stations import past_the_wizard

PIN = "4321"
HOST = "192.0.2.50"  # the web server's LAN address in station.toml
PHONE_IP = "192.0.2.77"
LIMIT_MB = 1


@pytest.fixture
def station_config(data_dir: Any) -> config.Config:
    web = f'[web]\nhost = "{HOST}"\nport = 8080\nupload_max_mb = {LIMIT_MB}\n'
    return simulated_config(data_dir, "[usb]\nenabled = false\n" + web)


@pytest.fixture
def touch(client: FlaskClient, station: Station) -> FlaskClient:
    """The station's own screen, past the wizard, with a shift and a book."""
    past_the_wizard(station, PIN, PIN)
    return client


@pytest.fixture
def phone(app: Flask) -> FlaskClient:
    """A phone's browser on the LAN."""
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = PHONE_IP
    return browser


def qr_url(touch: FlaskClient) -> str:
    page = touch.get("/phone").get_data(as_text=True)
    found = re.search(r'id="phone-qr" data-url="([^"]+)"', page)
    assert found is not None, page
    assert "<svg" in page[found.end() : found.end() + 200]
    return found.group(1)


def csrf_of(page: str, attribute: str = "data-csrf") -> str:
    found = re.search(attribute + r'="([^"]+)"', page)
    assert found is not None, page
    return found.group(1)


def open_qr(phone: FlaskClient, url: str) -> str:
    """What the phone does with the QR code: open it, spend the code; its CSRF token."""
    path = url.removeprefix(f"http://{HOST}:8080")
    answer = phone.get(path)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    token = csrf_of(answer.get_data(as_text=True))
    claimed = phone.post(
        "/phone/claim",
        json={"code": path.rsplit("/", 1)[1]},
        headers={"X-CSRF-Token": token, "Accept": "application/json"},
    )
    assert claimed.status_code == 200, claimed.get_data(as_text=True)
    assert claimed.get_json()["status"] == "pending"
    return token


def answer(touch: FlaskClient, station: Station, action: str, phone_id: str = "") -> TestResponse:
    phone_id = phone_id or (station.phones.pending() or station.phones.paired())[0].id
    page = touch.get("/phone").get_data(as_text=True)
    return touch.post(
        f"/phone/{phone_id}/{action}", data={"csrf": csrf_of(page, 'name="csrf" value')}
    )


def send(
    phone: FlaskClient, token: str, *photos: tuple[str, bytes], csrf: bool = True
) -> TestResponse:
    headers = {"Accept": "application/json"}
    if csrf:
        headers["X-CSRF-Token"] = token
    files = [(io.BytesIO(data), name) for name, data in photos]
    return phone.post("/phone/upload", data={"photo": files}, headers=headers)


def paired(touch: FlaskClient, phone: FlaskClient, station: Station) -> str:
    token = open_qr(phone, qr_url(touch))
    assert answer(touch, station, "confirm").status_code == 302
    return token


def test_a_phone_scans_is_confirmed_and_sends_pages(
    touch: FlaskClient, phone: FlaskClient, station: Station
) -> None:
    url = qr_url(touch)
    assert re.fullmatch(rf"http://{HOST}:8080/phone/j/[A-Za-z0-9_-]{{20,}}", url)
    token = open_qr(phone, url)
    [waiting] = station.phones.pending()
    assert waiting.ip == PHONE_IP
    screen = touch.get("/phone").get_data(as_text=True)
    assert waiting.compare in screen and PHONE_IP in screen and "Đồng ý" in screen
    assert "Điện thoại 1 xin gửi ảnh" in touch.get("/api/ui/state").get_json()["banner"]["text"]
    state = phone.get("/phone/state.json").get_json()
    assert state["status"] == "pending" and state["compare"] == waiting.compare

    early = send(phone, token, ("a.jpg", jpeg_bytes()))
    assert early.status_code == 403 and "chưa được xác nhận" in early.get_json()["error"]
    # The phone cannot answer for the station.
    forged = phone.post(f"/phone/{waiting.id}/confirm", data={"csrf": token})
    assert forged.status_code == 403 and station.phones.pending()

    assert answer(touch, station, "confirm").status_code == 302
    assert phone.get("/phone/state.json").get_json()["status"] == "active"
    page = phone.get("/phone/m")
    assert page.status_code == 200
    assert 'capture="environment" multiple' in page.get_data(as_text=True)

    sent = send(phone, token, ("trang-1.jpg", ledger_jpeg(seed=7)))
    assert sent.status_code == 200, sent.get_json()
    assert sent.get_json() == {"name": "trang-1.jpg", "saved": True, "message": ""}
    assert station.wait_idle(120)
    capture = _last_capture(station)
    assert capture.device == "phone:1" and capture.source == "phone"
    assert capture.operator == "Lê Thị Hoa"
    listed = touch.get("/phone").get_data(as_text=True)
    assert "Thu hồi" in listed and 'data-paired="' in listed


def _last_capture(station: Station) -> Capture:
    page = TouchApi(station).last_page("KS-2007-01")
    assert page is not None
    capture = station.store.get_capture(page.capture_id)
    assert capture is not None
    return capture


def test_a_code_works_once_and_a_wrong_one_never(
    touch: FlaskClient, phone: FlaskClient, app: Flask
) -> None:
    url = qr_url(touch)
    open_qr(phone, url)
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.78"
    path = url.removeprefix(f"http://{HOST}:8080")
    reused = other.get(path)
    assert reused.status_code == 410 and "đã được dùng" in reused.get_data(as_text=True)
    wrong = other.get("/phone/j/" + "x" * 22)
    assert wrong.status_code == 404 and "Mã QR không đúng" in wrong.get_data(as_text=True)
    token = csrf_of(wrong.get_data(as_text=True))
    claimed = other.post(
        "/phone/claim",
        json={"code": path.rsplit("/", 1)[1]},
        headers={"X-CSRF-Token": token, "Accept": "application/json"},
    )
    assert claimed.status_code == 410 and "đã được dùng" in claimed.get_json()["error"]
    forged = other.post("/phone/claim", json={"code": "x"}, headers={"Accept": "application/json"})
    assert forged.status_code == 400  # no CSRF token
    headers = {"X-CSRF-Token": token, "Accept": "application/json"}
    for odd in ([1, 2], "text", None, {"code": 5}):
        assert other.post("/phone/claim", json=odd, headers=headers).status_code == 404
    assert other.post("/phone/claim", data=b"\xff", headers=headers).status_code == 404


def test_an_expired_code_is_refused(
    touch: FlaskClient, phone: FlaskClient, station: Station, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = qr_url(touch).removeprefix(f"http://{HOST}:8080")
    later = station.phones._clock() + 3600
    monkeypatch.setattr(station.phones, "_clock", lambda: later)
    expired = phone.get(path)
    assert expired.status_code == 410 and "hết hạn" in expired.get_data(as_text=True)


def test_a_refused_phone_is_told_and_cannot_send(
    touch: FlaskClient, phone: FlaskClient, station: Station
) -> None:
    token = open_qr(phone, qr_url(touch))
    assert answer(touch, station, "refuse").status_code == 302
    state = phone.get("/phone/state.json").get_json()
    assert state["status"] == "refused" and "từ chối" in state["message"]
    refused = send(phone, token, ("a.jpg", jpeg_bytes()))
    assert refused.status_code == 403 and "quét lại mã QR" in refused.get_json()["error"]


def test_a_revoked_phone_is_told_to_scan_again(
    touch: FlaskClient, phone: FlaskClient, station: Station
) -> None:
    token = paired(touch, phone, station)
    assert send(phone, token, ("a.jpg", ledger_jpeg(seed=5))).status_code == 200
    assert answer(touch, station, "revoke").status_code == 302
    revoked = send(phone, token, ("b.jpg", ledger_jpeg(seed=6)))
    assert revoked.status_code == 403
    told = revoked.get_json()["error"]
    assert "thu hồi" in told and "quét lại mã QR" in told
    page = phone.get("/phone/m")
    assert page.status_code == 403 and "thu hồi" in page.get_data(as_text=True)
    assert station.wait_idle(120)


def test_bad_uploads_get_their_reason(
    touch: FlaskClient, phone: FlaskClient, station: Station
) -> None:
    token = paired(touch, phone, station)
    big = send(phone, token, ("to.jpg", b"\xff" * (LIMIT_MB * 1024 * 1024 + 1)))
    assert big.status_code == 413 and big.get_json()["message"] == (
        f"Ảnh quá lớn (tối đa {LIMIT_MB} MB mỗi ảnh). Hãy chụp với độ phân giải thấp hơn."
    )
    forged = send(phone, token, ("a.jpg", jpeg_bytes()), csrf=False)
    assert forged.status_code == 400
    two = send(phone, token, ("a.jpg", jpeg_bytes()), ("b.jpg", jpeg_bytes()))
    assert two.status_code == 400 and "đúng một ảnh" in two.get_json()["message"]
    bad = send(phone, token, ("note.jpg", b"not an image"))
    assert bad.status_code == 422 and not bad.get_json()["saved"] and bad.get_json()["message"]
    station.current_book = None
    closed = send(phone, token, ("a.jpg", jpeg_bytes()))
    assert closed.status_code == 409 and "Chưa chọn sổ" in closed.get_json()["message"]


def test_only_the_station_or_an_admin_answers(
    touch: FlaskClient, phone: FlaskClient, station: Station
) -> None:
    open_qr(phone, qr_url(touch))
    phone_id = station.phones.pending()[0].id
    assert phone.get("/phone").status_code in (302, 403)  # the QR screen is the station's
    token = csrf_of(phone.get("/phone/m").get_data(as_text=True))
    denied = phone.post(f"/phone/{phone_id}/confirm", data={"csrf": token})
    assert denied.status_code == 403
    unknown = answer(touch, station, "confirm", phone_id="p0000")
    assert unknown.status_code == 302  # back to the screen, saying why
    assert "Không tìm thấy điện thoại này" in touch.get("/phone").get_data(as_text=True)
    wrong = answer(touch, station, "explode", phone_id=phone_id)
    assert wrong.status_code == 400


def test_a_station_unreachable_by_phones_says_so(client: FlaskClient, app: Flask) -> None:
    station: Station = app.extensions["station"]
    api = TouchApi(station)
    api.set_admin_pin(PIN)
    operator = api.add_operator("An", PIN)
    api.start_shift(operator.id, PIN)
    object.__setattr__(station.config, "web", config.WebSection(host="127.0.0.1"))
    page = client.get("/phone").get_data(as_text=True)
    assert 'id="phone-unreachable"' in page and "0.0.0.0" in page and "<svg" not in page
