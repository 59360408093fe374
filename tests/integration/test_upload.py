"""Phone upload through the real waitress server: per-file results, limits, loopback only."""

from __future__ import annotations

import io
import re
import secrets
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from station.app.station import Station
from station.core.models import BookRef
from tests.support.checks import published_pdfs, qpdf_ok, raw_captures
from tests.support.commands import station_command, station_env
from tests.support.http_client import Browser
from tests.support.images import jpeg_bytes, ledger_jpeg, png_bomb
from tests.support.ports import free_port, wait_for_port

LIMIT_MB = 3


def multipart(fields: dict[str, str], files: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    """Encode a multipart/form-data body as a browser does; return it and its type."""
    boundary = "----station" + secrets.token_hex(8)
    parts = []
    for name, value in fields.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        parts.append(head.encode() + value.encode() + b"\r\n")
    for field, filename, data in files:
        head = (
            f"--{boundary}\r\nContent-Disposition: form-data; "
            f'name="{field}"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        )
        parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def send(
    browser: Browser, csrf: str, files: list[tuple[str, bytes]], path: str = "/upload"
) -> tuple[int, str]:
    body, kind = multipart({"csrf": csrf}, [("photos", name, data) for name, data in files])
    request = urllib.request.Request(
        browser.base + path, data=body, method="POST", headers={"Content-Type": kind}
    )
    return browser._open(request)


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def lan_address() -> str | None:
    """This machine's address on its default route, if it has one besides loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # a documentation address: nothing is sent
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") else address


@pytest.fixture
def server(data_dir: Path) -> Iterator[tuple[Browser, int]]:
    """``station demo`` listening on every interface, with a small upload limit."""
    port = free_port()
    env = station_env(
        data_dir,
        STATION__WEB__PORT=str(port),
        STATION__WEB__HOST="0.0.0.0",
        STATION__WEB__UPLOAD_MAX_MB=str(LIMIT_MB),
    )
    process = subprocess.Popen(
        station_command("demo"), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        wait_for_port(port, process)
        yield Browser(f"http://127.0.0.1:{port}"), port
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
        if process.stdout:
            process.stdout.close()


def test_good_photos_are_kept_and_bad_ones_refused_one_by_one(server, data_dir: Path) -> None:
    browser, _ = server
    status, page = browser.get("/upload")
    assert status == 200
    assert "Gửi ảnh trang sổ" in page and "KS-2007-01" in page
    assert 'accept="image/*" capture="environment" multiple' in page
    assert 'enctype="multipart/form-data"' in page
    assert "http://" not in page and "https://" not in page  # nothing from elsewhere (no CDN)
    good = ledger_jpeg(seed=7)
    status, page = send(
        browser,
        csrf_of(page),
        [
            ("IMG_0001.jpg", good),
            ("notes.txt", b"not a photo at all" * 30),
            ("cut.jpg", good[: len(good) // 3]),
            ("bomb.png", png_bomb()),
        ],
    )
    assert status == 200
    assert "Đã lưu 1 trang" in page
    assert re.search(r"IMG_0001\.jpg</strong>:\s*đã lưu", page)
    assert "notes.txt không phải là ảnh" in page
    assert "cut.jpg bị hỏng hoặc chưa chép xong" in page
    assert "bomb.png quá lớn" in page
    raws = raw_captures(data_dir)
    assert len(raws) == 1 and raws[0].read_bytes() == good
    deadline = time.monotonic() + 60
    while not published_pdfs(data_dir):  # processed in the station's process
        assert time.monotonic() < deadline, "no PDF published"
        time.sleep(0.1)
    assert all(qpdf_ok(pdf) for pdf in published_pdfs(data_dir))
    status, page = browser.get("/upload?lang=en")
    assert status == 200 and "Send ledger page photos" in page


def test_limits_and_forged_forms_get_clear_answers(server, data_dir: Path) -> None:
    browser, _ = server
    _, page = browser.get("/upload")
    csrf = csrf_of(page)
    status, page = send(browser, csrf, [("big.jpg", b"\xff\xd8" + b"\0" * (LIMIT_MB << 20))])
    assert status == 413 and f"tối đa {LIMIT_MB} MB" in page and "Traceback" not in page
    # Well over the limit (45 MB against 40): still the station's words, not waitress's
    # English "Request Entity Too Large".
    status, page = send(browser, csrf, [("big.jpg", b"\xff\xd8" + b"\0" * (LIMIT_MB * 3 << 19))])
    assert status == 413 and f"tối đa {LIMIT_MB} MB" in page and "Entity" not in page
    status, page = send(browser, "forged", [("a.jpg", b"x")])
    assert status == 400 and "Yêu cầu không hợp lệ" in page
    status, page = send(browser, csrf, [])
    assert status == 400 and "Chưa chọn ảnh nào" in page
    # Other pages keep their small limit.
    status, page = browser.post("/capture", {"csrf": "x" * (2 * 1024 * 1024)})
    assert status == 413 and "tối đa 1 MB" in page and "Entity" not in page
    assert raw_captures(data_dir) == []


def test_other_machines_are_told_to_pair_first(server) -> None:
    _, port = server
    address = lan_address()
    if address is None:
        pytest.skip("no address besides loopback on this machine")
    stranger = Browser(f"http://{address}:{port}")
    for status, page in (stranger.get("/upload"), stranger.post("/upload", {"csrf": "x"})):
        assert status == 403
        assert "ghép nối với trạm" in page and "paired with the station" in page


# --- the page's rules through Flask's test client (no socket) ----------------------------


def csrf_of_page(client: FlaskClient) -> str:
    return csrf_of(client.get("/upload").get_data(as_text=True))


def test_a_lan_peer_gets_a_bilingual_refusal(client: FlaskClient) -> None:
    web = client
    lan = {"REMOTE_ADDR": "192.168.1.20"}
    for response in (
        web.get("/upload", environ_base=lan),
        web.post("/upload", data={"csrf": "x"}, environ_base=lan),
    ):
        assert response.status_code == 403
        text = response.get_data(as_text=True)
        assert "ghép nối" in text and "paired" in text


def test_no_open_book_refuses_with_the_reason(client: FlaskClient, station: Station) -> None:
    web = client
    photo = (io.BytesIO(jpeg_bytes()), "a.jpg")
    response = web.post("/upload", data={"csrf": csrf_of_page(web), "photos": photo})
    assert response.status_code == 409 and "Chưa chọn sổ" in response.get_data(as_text=True)
    assert len(station.intake.queue) == 0


def test_json_answers_for_scripts(client: FlaskClient, station: Station) -> None:
    web = client
    station.open_book(BookRef.parse("KS/2007/01"))
    files = [(io.BytesIO(jpeg_bytes()), "a.jpg"), (io.BytesIO(b"nope"), "b.jpg")]
    response = web.post(
        "/upload",
        data={"csrf": csrf_of_page(web), "photos": files},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [(r["name"], r["saved"]) for r in results] == [("a.jpg", True), ("b.jpg", False)]
    assert "not an image" in results[1]["message"] or "không phải" in results[1]["message"]
    assert station.wait_idle(60)
    failed = [job.capture for job, _ in station.intake.queue.failed()]
    (raw,) = station.intake.captures_dir.glob("KS-2007-01/*.jpg")
    capture = station.store.get_capture(raw.stem) or failed[0]  # a blank page may fail
    assert (capture.source, capture.dpi, capture.device) == ("phone", 300, "upload:127.0.0.1")
