"""A phone on the LAN pairs by QR code and sends two page photos, end to end.

The real station (``station serve``, listening on every interface) and the kiosk's
touch screen (800x480, touch) in this network namespace; the phone (Playwright's
"Pixel 5": mobile, touch) is a second Chromium running in a second namespace joined
by a veth pair, so the station sees it as another machine. The touch screen opens
the QR screen; the phone opens the address the code holds and waits; the touch
screen confirms it (the same code on both screens); the phone sends two photos and
sees both saved; the station processes them into entries. Then the touch screen
revokes the phone, whose next photo is refused with the reason. The QR screen, the
confirm prompt and the phone's pages are photographed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.http_client import Client
from tests.support.images import ledger_jpeg
from tests.support.netns import Peer, peer_namespace
from tests.support.screens import CHROMIUM, SMALL, Shots, chromium_args, new_context
from tests.support.server import Server, start_server

pytest.importorskip("playwright.sync_api", reason="pip install -e '.[dev]'")

from playwright.sync_api import Browser, Playwright

from tests.support.touch import Touch

pytestmark = pytest.mark.slow

PIN = "2580"
BOOK = "KS-2007-01"
#: The phone's page shows ``n`` photos saved.
SAVED = "(n) => document.querySelectorAll('#results li[data-state=saved]').length === n"
#: The main screen shows a processed last page and an empty queue.
PROCESSED = """(before) => {
    const s = document.getElementById("scan").dataset;
    return s.lastPage && s.lastPage !== before && s.captureRunning === "false"
        && document.getElementById("queue").textContent.trim() === "0";
}"""
FETCH_JSON = """async (path) => {
    const answer = await fetch(path, {headers: {Accept: "application/json"}});
    return JSON.stringify(await answer.json());
}"""


@pytest.fixture
def lan() -> Iterator[Peer]:
    with peer_namespace() as peer:
        yield peer


@pytest.fixture
def station(tmp_path: Path, lan: Peer) -> Iterator[Server]:
    """The station listening on every interface; phones are given the veth's address."""
    config = f'[web]\nhost = "0.0.0.0"\n[lan]\ninterfaces = ["{lan.host_if}"]\n'
    with start_server(tmp_path, config) as running:
        Client(running.url).set_up(PIN, "Nguyễn Thị Lan", "2007/1", "stacked")
        yield running


@pytest.fixture
def phone_browser(playwright: Playwright, lan: Peer, tmp_path: Path) -> Iterator[Browser]:
    """Chromium inside the phone's namespace."""
    wrapper = lan.wrapper(tmp_path, CHROMIUM)
    launched = playwright.chromium.launch(executable_path=str(wrapper), args=chromium_args())
    try:
        yield launched
    finally:
        launched.close()


def test_a_phone_pairs_by_qr_and_sends_two_pages(
    station: Server, browser: Browser, phone_browser: Browser, playwright: Playwright, lan: Peer
) -> None:
    shots = Shots(SMALL, name="phone-800x480")
    kiosk = new_context(browser, SMALL)
    phone = phone_browser.new_context(**playwright.devices["Pixel 5"], locale="vi-VN")
    phone.set_default_timeout(20_000)
    errors: list[str] = []
    try:
        ui = Touch(kiosk.new_page(), station.url, shots)
        ui.page.on("pageerror", lambda error: errors.append(str(error)))
        mobile = Touch(phone.new_page(), "", shots)
        mobile.page.on("pageerror", lambda error: errors.append(str(error)))

        url = open_qr_screen(ui, station, lan)
        compare = phone_asks(ui, mobile, url)
        ui.shot("phone-confirm")
        assert ui.page.inner_text("[data-compare]") == compare
        assert lan.peer_ip in ui.page.inner_text("#phone-requests")
        ui.tap_and_load("[data-confirm]", "**/phone")
        mobile.page.wait_for_url("**/phone/m")
        mobile.ready()
        assert mobile.page.get_attribute("#phone", "data-view") == "upload"

        before = scan_state(ui)
        send_photos(mobile, [("trang-1.jpg", 11), ("trang-2.jpg", 12)])
        mobile.page.wait_for_function(SAVED, arg=2)
        mobile.shot("phone-saved")
        wait_processed(ui, before)
        done = sorted((station.data_dir / "captures" / BOOK).glob("*.done"))
        assert len(done) == 2, done

        revoke(ui, mobile)
        assert not errors, errors
    finally:
        phone.close()
        kiosk.close()


def open_qr_screen(ui: Touch, station: Server, lan: Peer) -> str:
    """From the main screen to the QR code; the address it holds."""
    ui.go("/scan")
    ui.shot("scan-phone-button")
    ui.tap_and_load("#phone-open", "**/phone")
    url = ui.page.get_attribute("#phone-qr", "data-url") or ""
    port = station.url.rsplit(":", 1)[1]
    assert re.fullmatch(rf"http://{re.escape(lan.host_ip)}:{port}/phone/j/[\w-]{{20,}}", url)
    assert ui.page.inner_text("#phone-url") == url
    box = ui.page.locator("#phone-qr svg.qr").bounding_box()
    assert box is not None and min(box["width"], box["height"]) >= 200  # big enough to scan
    ui.page.wait_for_function("document.body.dataset.live === 'sse'")  # it hears the phone
    ui.shot("phone-qr")
    return url


def phone_asks(ui: Touch, mobile: Touch, url: str) -> str:
    """The phone opens the QR code's address and waits; the screen shows its request."""
    mobile.page.goto(url)
    mobile.ready()
    mobile.page.wait_for_selector("#view-wait:not([hidden])")
    compare = mobile.page.inner_text("#compare")
    assert re.fullmatch(r"\d{4}", compare)
    mobile.shot("phone-waiting")
    ui.page.wait_for_selector("[data-confirm]")  # the screen reloaded on the phone's request
    ui.ready()
    return compare


def send_photos(mobile: Touch, photos: list[tuple[str, int]]) -> None:
    files = [
        {"name": name, "mimeType": "image/jpeg", "buffer": ledger_jpeg(seed=seed)}
        for name, seed in photos
    ]
    mobile.page.set_input_files("#photos-camera", files)


def scan_state(ui: Touch) -> str:
    """The capture id of the last page on the main screen ("" before any)."""
    state = json.loads(ui.page.evaluate(FETCH_JSON, "/api/ui/state"))
    return str((state["last_page"] or {}).get("capture_id", ""))


def wait_processed(ui: Touch, before: str) -> None:
    """The main screen shows the phone's pages processed into entries."""
    ui.go("/scan")
    ui.page.wait_for_function(PROCESSED, arg=before)
    state = json.loads(ui.page.evaluate(FETCH_JSON, "/api/ui/state"))
    assert state["last_page"]["entries"], state["last_page"]
    assert state["book"]["key"] == BOOK


def revoke(ui: Touch, mobile: Touch) -> None:
    """Revoked on the screen; the phone's next photo is refused with the reason."""
    ui.go("/phone")
    assert ui.page.locator("[data-revoke]").count() == 1
    ui.tap_and_load("[data-revoke]", "**/phone")
    assert ui.page.locator("[data-revoke]").count() == 0
    send_photos(mobile, [("trang-3.jpg", 13)])
    refused = mobile.page.wait_for_selector("#results li[data-state=refused]")
    assert refused is not None
    words = refused.inner_text()
    assert "thu hồi" in words and "quét lại mã QR" in words
    mobile.shot("phone-revoked")
