"""The upload page's rules, through Flask's test client (the real server: integration)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from station.app.station import Station
from station.core.config import Config
from station.core.models import BookRef
from station.ui.app import create_app
from station.ui.upload import display_name, is_loopback
from tests.support.images import jpeg_bytes


@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.1", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("192.168.1.20", False),
        ("::ffff:192.168.1.20", False),
        ("fe80::1%eth0", False),
        ("", False),
        (None, False),
        ("localhost", False),  # never a name: the server gives the peer's address
    ],
)
def test_only_loopback_peers_count_as_the_station(address: str | None, loopback: bool) -> None:
    assert is_loopback(address) is loopback


def test_client_file_names_are_shown_never_used_as_paths() -> None:
    assert display_name("../../etc/passwd") == "passwd"
    assert display_name("C:\\Users\\an\\IMG_1.jpg") == "IMG_1.jpg"
    assert display_name("") == "?"
    assert len(display_name("x" * 500 + ".jpg")) == 80


@pytest.fixture
def client(station_config: Config) -> Iterator[tuple[FlaskClient, Station]]:
    with Station(station_config) as station:
        yield create_app(station, {"TESTING": True}).test_client(), station


def csrf_of(client: FlaskClient) -> str:
    page = client.get("/upload").get_data(as_text=True)
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def test_a_lan_peer_gets_a_bilingual_refusal(client: tuple[FlaskClient, Station]) -> None:
    web, _ = client
    lan = {"REMOTE_ADDR": "192.168.1.20"}
    for response in (
        web.get("/upload", environ_base=lan),
        web.post("/upload", data={"csrf": "x"}, environ_base=lan),
    ):
        assert response.status_code == 403
        text = response.get_data(as_text=True)
        assert "ghép nối" in text and "paired" in text


def test_no_open_book_refuses_with_the_reason(client: tuple[FlaskClient, Station]) -> None:
    web, station = client
    photo = (io.BytesIO(jpeg_bytes()), "a.jpg")
    response = web.post("/upload", data={"csrf": csrf_of(web), "photos": photo})
    assert response.status_code == 409 and "Chưa chọn sổ" in response.get_data(as_text=True)
    assert len(station.intake.queue) == 0


def test_json_answers_for_scripts(client: tuple[FlaskClient, Station]) -> None:
    web, station = client
    station.open_book(BookRef.parse("KS/2007/01"))
    files = [(io.BytesIO(jpeg_bytes()), "a.jpg"), (io.BytesIO(b"nope"), "b.jpg")]
    response = web.post(
        "/upload",
        data={"csrf": csrf_of(web), "photos": files},
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
