"""Capturing through the web server's routes with a real device, served by waitress.

A station set up with a SANE scanner (the real SANE ``test`` backend in a private
SANE_CONFIG_DIR) captures a page from the status page's button and from the touch
screen's, as ``station scan`` does; before drivers were given only their own options the
touch screen's capture handed the SANE driver the simulator's ``first_entry`` and
failed. A station with no device chosen (an installed one) says so and captures nothing.

The test backend draws a grid, not a ledger: the pipeline keeps its entries for review
rather than publishing PDFs, so "processed" means the raw page was kept and marked
done, and the page and its entry records are in the book (see test_sane_scan.py).
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.support.checks import RAW_SUFFIXES
from tests.support.commands import station_command, station_env
from tests.support.http_client import Browser
from tests.support.ports import free_port, wait_for_port
from tests.support.sane_backend import write_sane_config

pytest.importorskip("sane")

PIN = "4321"
BOOK = "KS-2007-01"
#: A4 at the test stations' 150 dpi, in pixels.
A4_150_DPI = (1240, 1753)


def serve(data_dir: Path, **env: str) -> Iterator[Browser]:
    """``station serve`` (not the demo) with ``env``; its browser while it runs."""
    port = free_port()
    process = subprocess.Popen(
        station_command("serve"),
        env=station_env(data_dir, STATION__WEB__PORT=str(port), **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, process)
        yield Browser(f"http://127.0.0.1:{port}")
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
        if process.stdout:
            process.stdout.close()


@pytest.fixture
def sane_station(data_dir: Path, tmp_path: Path) -> Iterator[Browser]:
    sane_dir = write_sane_config(tmp_path / "sane")
    yield from serve(
        data_dir,
        SANE_CONFIG_DIR=str(sane_dir),
        STATION__CAPTURE__DEVICE="sane",
        STATION__CAPTURE__DEVICE_ID="test:0",
        STATION__CAPTURE__SANE__AREA="A4",
    )


@pytest.fixture
def unchosen_station(data_dir: Path) -> Iterator[Browser]:
    """A station as installed: the configuration chooses no device."""
    yield from serve(data_dir, STATION__CAPTURE__DEVICE="")


def csrf(browser: Browser) -> str:
    status, page = browser.get("/status")
    assert status == 200
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def status(browser: Browser) -> Any:
    code, body = browser.get("/status.json")
    assert code == 200
    return json.loads(body)


def book_counts(browser: Browser) -> dict[str, Any]:
    books = status(browser)["books"]
    return next((b for b in books if b["key"] == BOOK), {"pages": 0})


def wait_processed(browser: Browser, pages: int) -> dict[str, Any]:
    """The book's counts once ``pages`` pages are processed and the queue is empty."""
    deadline = time.monotonic() + 120
    while True:
        book, now = book_counts(browser), status(browser)
        if book["pages"] >= pages and now["queue"] == 0:
            return book
        assert time.monotonic() < deadline, (book, now)
        time.sleep(0.1)  # another process's queue: there is no event to wait on here


def finished_capture(browser: Browser) -> dict[str, Any]:
    """The touch screen's capture state once its job has ended."""
    deadline = time.monotonic() + 120
    while True:
        capture: dict[str, Any] = json.loads(browser.get("/api/ui/state?lang=en")[1])["capture"]
        if not capture["running"]:
            return capture
        assert time.monotonic() < deadline, capture
        time.sleep(0.1)  # the job runs in the server process


def open_touch_screen(browser: Browser, token: str) -> None:
    """First boot on the touch screen: admin PIN, an operator's shift, a new book."""
    pin = {"csrf": token, "pin": PIN, "pin2": PIN}
    assert browser.post("/setup/pin", pin)[0] == 200
    assert browser.post("/shift/new", {**pin, "name": "Lê Thị Hoa"})[0] == 200
    book = {"csrf": token, "code": "KS", "year": "2007", "book": "1", "first_entry": "23"}
    code, page = browser.post("/books/new", {**book, "profile": "page-1"})
    assert code == 200, page
    assert status(browser)["current_book"] == BOOK


def raw_pages(data_dir: Path) -> list[Path]:
    return sorted(p for p in (data_dir / "captures" / BOOK).glob("*") if p.suffix in RAW_SUFFIXES)


def test_a_sane_station_captures_from_the_touch_screen_and_the_status_page(
    sane_station: Browser, data_dir: Path
) -> None:
    browser = sane_station
    device = status(browser)["device"]
    assert (device["kind"], device["device"], device["state"]) == ("sane", "test:0", "idle")
    token = csrf(browser)
    open_touch_screen(browser, token)

    # The touch screen's button: a capture job in the background, like the pedal's.
    code, page = browser.post("/scan/capture", {"csrf": token})
    assert code == 200, page
    capture = finished_capture(browser)
    after_touch = wait_processed(browser, 1)
    assert capture["error"] is None, capture  # no "unknown option 'first_entry'"
    assert capture["pages_saved"] == 1

    # The status page's button waits for the page to be saved.
    code, page = browser.post("/capture", {"csrf": token})
    assert code == 200 and "Saved 1 page(s)" in page, page  # the screen is in English now
    after_web = wait_processed(browser, 2)

    assert (after_touch["pages"], after_web["pages"]) == (1, 2)
    assert after_touch["entries"] >= 1  # the page's entries are in the book, for review
    assert after_web["entries"] > after_touch["entries"]
    assert after_web["entries"] == after_web["published"] + after_web["review"]
    raws = raw_pages(data_dir)
    assert len(raws) == 2
    for raw in raws:
        assert raw.with_name(raw.name + ".done").exists(), raw  # processed
        with Image.open(raw) as image:
            assert image.size == A4_150_DPI  # scanned by SANE at the configured area
    assert status(browser)["failed"] == 0
    assert status(browser)["device"]["state"] == "idle"


def test_a_station_without_a_chosen_device_says_so_and_captures_nothing(
    unchosen_station: Browser, data_dir: Path
) -> None:
    browser = unchosen_station
    device = status(browser)["device"]
    assert (device["kind"], device["state"], device["message_key"]) == ("", "error", "driver.none")
    token = csrf(browser)
    open_touch_screen(browser, token)
    _, body = browser.get("/api/ui/state?lang=vi")  # the screen's language from now on
    banner = json.loads(body)["banner"]
    assert banner["level"] == "bad" and "Chưa chọn thiết bị nhận ảnh" in banner["text"]

    code, page = browser.post("/capture", {"csrf": token})
    assert code == 200 and "Chưa chọn thiết bị nhận ảnh" in page, page
    _, body = browser.get("/api/ui/state?lang=en")
    assert "No capture device is chosen" in json.loads(body)["banner"]["text"]
    code, _ = browser.post("/scan/capture", {"csrf": token})
    assert code == 200
    capture = finished_capture(browser)
    assert capture["error"]["key"] == "driver.none", capture
    assert "No capture device is chosen" in capture["message"]
    assert raw_pages(data_dir) == [] and book_counts(browser)["pages"] == 0

    # The admin screen offers the registered drivers, none chosen. (The wizard's admin
    # session closed when the touch screens were shown: the PIN is asked again.)
    assert browser.post("/admin/login", {"csrf": token, "pin": PIN})[0] == 200
    code, page = browser.get("/admin/")
    assert code == 200, page
    select = re.search(r'<select id="f-capture__device".*?</select>', page, re.S)
    assert select is not None, page
    assert re.findall(r'<option value="([^"]*)"', select.group(0)) == [
        "",
        "camera",
        "folder",
        "sane",
        "simulated",
    ]
    assert '<option value="" selected>—</option>' in select.group(0)
