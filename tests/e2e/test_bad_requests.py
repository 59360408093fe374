"""Bad requests to the touch screens get a clear page or JSON error, never a traceback.

Through the real waitress server: an unknown book, page or entry, a malformed form or
JSON body, a missing CSRF token, an oversized body or upload, a wrong method. Also the
live event stream: it starts with ``resync`` and refuses screens beyond its cap.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from station.ui.live import MAX_STREAMS
from tests.support.http_client import Client
from tests.support.server import Server, start_server

PIN = "2468"


@pytest.fixture
def ready(tmp_path: Path) -> Iterator[tuple[Server, Client]]:
    """A station past the wizard, with a shift and a book open (uploads limited to 1 MB)."""
    with start_server(tmp_path, STATION__WEB__UPLOAD_MAX_MB="1") as server:
        client = Client(server.url)
        client.set_up(PIN, "Trần Văn Bình", book="2010/2", profile="page-1")
        yield server, client


def no_traceback(body: str) -> None:
    assert "Traceback" not in body and 'File "' not in body


def test_unknown_things_are_404_pages_or_json(ready: tuple[Server, Client]) -> None:
    _, client = ready
    for path in (
        "/books/XX-1999-01/overview",
        "/review/KS-2010-02/c20990101T000000000000-00000000",
        "/entries/e20990101T000000000000-00000000",
        "/entries/e20990101T000000000000-00000000.pdf",
        "/pages/KS-2010-02/nope.jpg",
    ):
        status, kind, body = client.get(path)
        assert status == 404, (path, status, body[:300])
        assert kind.startswith("text/html") and "<html" in body
        no_traceback(body)
        status, kind, body = client.get(path, json_wanted=True)
        assert status == 404 and kind == "application/json", (path, status)
        assert json.loads(body)["status"] == 404 and json.loads(body)["error"]
    status, kind, body = client.get("/books/XX-1999-01/overview")
    assert "XX-1999-01" in body  # the page says which book
    status, kind, body = client.get("/api/ui/pages/KS-2010-02/nope")  # /api: JSON always
    assert status == 404 and kind == "application/json"


def test_malformed_forms_and_bodies_say_what_is_wrong(ready: tuple[Server, Client]) -> None:
    _, client = ready
    status, _, body = client.form(
        "/books/new", code="KS", year="two thousand", book="3", profile="page-1", first_entry="1"
    )
    assert status == 400 and "year" in body and 'id="book-form"' in body  # the form again
    no_traceback(body)
    status, _, body = client.form(
        "/books/new", code="K5", year="2011", book="1", profile="page-1", first_entry="1"
    )
    assert status == 400 and "K5" in body
    status, _, body = client.form("/shift/start", operator_id="nobody", pin="1234")
    assert status == 404 and "<html" in body
    status, kind, body = client.post(
        "/api/ui/pages/KS-2010-02/nope/cuts",
        body=b"{not json",
        **{"Content-Type": "application/json", "X-CSRF-Token": client.csrf},
    )
    assert status == 400 and kind == "application/json", body
    no_traceback(body)
    for hostile, said in (
        (b"[" * 50_000 + b"]" * 50_000, "lồng nhau quá sâu"),
        (b'{"cuts": [' + b"9" * 5000 + b"]}", "số quá dài"),
    ):
        status, kind, body = client.post(
            "/api/ui/pages/KS-2010-02/nope/cuts",
            body=hostile,
            **{"Content-Type": "application/json", "X-CSRF-Token": client.csrf},
        )
        assert status == 400 and kind == "application/json", body
        assert said in json.loads(body)["error"], body
        no_traceback(body)
    status, _, body = client.post("/books/new", {"code": "KS", "year": "2012", "book": "1"})
    assert status == 400 and "Yêu cầu không hợp lệ" in body  # no CSRF token
    status, _, body = client.get("/scan/capture")
    assert status == 405
    assert "POST" in client.last_headers["Allow"]
    no_traceback(body)


def test_oversized_bodies_and_uploads_are_refused(ready: tuple[Server, Client]) -> None:
    _, client = ready
    big = "x" * (1536 * 1024)  # over the 1 MB of a form, under what waitress reads
    status, kind, body = client.form("/books/new", code="KS", year="2013", book="1", note=big)
    assert status == 413 and "quá lớn" in body and kind.startswith("text/html")
    status, kind, body = client.post(
        "/api/ui/pages/KS-2010-02/nope/cuts",
        body=json.dumps({"cuts": [big]}).encode(),
        **{"Content-Type": "application/json", "X-CSRF-Token": client.csrf},
    )
    assert status == 413 and kind == "application/json"
    boundary = "stationtestboundary"
    photo = b"\xff\xd8" + b"\0" * (1536 * 1024)
    upload = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{client.csrf}\r\n'
            f"--{boundary}\r\nContent-Disposition: form-data; "
            'name="photos"; filename="page.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
        ).encode()
        + photo
        + f"\r\n--{boundary}--\r\n".encode()
    )
    status, _, body = client.post(
        "/upload", body=upload, **{"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    assert status == 413 and "1 MB" in body
    no_traceback(body)


def test_events_start_with_resync_and_are_capped(ready: tuple[Server, Client]) -> None:
    server, _ = ready
    host, port = server.url.removeprefix("http://").split(":")
    with ExitStack() as streams:
        for _ in range(MAX_STREAMS):
            connection = http.client.HTTPConnection(host, int(port), timeout=30)
            streams.callback(connection.close)
            connection.request("GET", "/events", headers={"Last-Event-ID": "12345"})
            response = connection.getresponse()
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/event-stream")
            opening = b"".join(response.readline() for _ in range(4))
            assert b"event: resync" in opening
        refused = http.client.HTTPConnection(host, int(port), timeout=30)
        streams.callback(refused.close)
        refused.request("GET", "/events")
        answer = refused.getresponse()
        assert answer.status == 503 and answer.headers["Retry-After"]
        assert json.loads(answer.read())["error"]
