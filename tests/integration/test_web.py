"""The status page, served by the real WSGI server (waitress) in its own process."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.checks import published_pdfs
from tests.support.commands import station_command, station_env
from tests.support.http_client import Browser
from tests.support.ports import free_port, wait_for_port


@pytest.fixture
def server(data_dir: Path) -> Iterator[tuple[Browser, subprocess.Popen[bytes]]]:
    port = free_port()
    env = station_env(data_dir, STATION__WEB__PORT=str(port))
    process = subprocess.Popen(
        station_command("demo"), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    browser = Browser(f"http://127.0.0.1:{port}")
    try:
        wait_for_port(port, process)
        yield browser, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
        if process.stdout:
            process.stdout.close()


def test_status_page_shows_device_book_and_counts(server, data_dir: Path) -> None:
    browser, _ = server
    status, page = browser.get("/status")
    assert status == 200
    assert "Trạm số hóa sổ hộ tịch" in page
    assert "simulated" in page and "KS-2007-01" in page
    assert "sẵn sàng" in page  # the simulated scanner is present and ready
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf is not None
    status, page = browser.post("/capture", {"csrf": csrf.group(1)})
    assert status == 200 and "Đã lưu 1 trang" in page
    deadline = time.monotonic() + 60
    while len(published_pdfs(data_dir)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    status, page = browser.get("/status.json")
    book = next(b for b in json.loads(page)["books"] if b["key"] == "KS-2007-01")
    assert (book["pages"], book["entries"], book["published"]) == (1, 2, 2)
    assert "sẵn sàng" in browser.get("/status")[1]  # ready again after the capture
    _, page = browser.get("/status?lang=en")
    assert "Civil-status ledger station" in page and "Capture one page" in page


def test_a_page_that_changes_nothing_sends_no_session_cookie(server) -> None:
    # The session lives in a signed cookie that every response setting it replaces
    # whole. A page's background request sent before the reader switched language,
    # answered after, would put the old language back if every answer re-sent the
    # cookie: only a request that changes the session may.
    browser, _ = server
    assert browser.get("/status?lang=en")[0] == 200
    jar = next(
        h.cookiejar for h in browser.opener.handlers
        if isinstance(h, urllib.request.HTTPCookieProcessor)
    )  # fmt: skip
    stale = "; ".join(f"{c.name}={c.value}" for c in jar)  # the session saying English
    assert stale
    assert "Quét một trang" in browser.get("/status?lang=vi")[1]
    request = urllib.request.Request(browser.base + "/status", headers={"Cookie": stale})
    with urllib.request.urlopen(request, timeout=30) as late:
        assert late.status == 200
        assert late.headers.get_all("Set-Cookie") is None


def test_bad_requests_get_clear_pages_not_tracebacks(server) -> None:
    browser, _ = server
    status, page = browser.get("/no/such/page")
    assert status == 404 and "Không tìm thấy trang này" in page
    status, page = browser.post("/capture", {"csrf": "forged"})
    assert status == 400 and "Yêu cầu không hợp lệ" in page
    status, page = browser.post("/capture", {"csrf": "x" * (2 * 1024 * 1024)})
    assert status == 413 and "quá lớn" in page
    status, page = browser.get("/capture")
    assert status == 405 and "không được phép" in page
    assert "Traceback" not in page


def test_sigterm_stops_cleanly(server) -> None:
    _, process = server
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
