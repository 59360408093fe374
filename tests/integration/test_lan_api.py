"""API v1 over the real TLS listener (cheroot) on loopback, with a pinned HTTPS client."""

from __future__ import annotations

import hashlib
import io
import itertools
import os
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from station.app.station import Station
from station.core.models import Entry
from station.lan.api import API_PREFIX
from station.lan.pairing import Pairing
from station.processing.page import publish_pdf
from station.store.scrub import load_report
from station.system import doctor_data
from station.system.findings import Context
from station.ui import screens
from station.ui.app import create_app
from tests.support.lan import BOOK, Client, lan_config, pair, publish_entries, serving_lan
from tests.support.store import image_pdf

#: The API's public routes; every other route must refuse requests without a token.
PUBLIC = {("GET", "/station"), ("POST", "/pair"), ("GET", "/pair/<request_id>")}


@pytest.fixture
def lan_station(tmp_path: Path) -> Iterator[Station]:
    """A started station with the LAN listener up and three published entries."""
    with serving_lan(lan_config(tmp_path / "data"), 3) as station:
        yield station


@pytest.fixture
def client(lan_station: Station) -> Client:
    certificate = lan_station.lan.certificate
    assert certificate is not None
    return Client(lan_station.lan.port, certificate.cert_path.read_text())


def _entries(station: Station) -> list[Entry]:
    return sorted(station.store.list_entries(BOOK), key=lambda e: int(e.number))


def _file_path(entry: Entry, version: int = 1) -> str:
    return f"/entries/{entry.id}/versions/{version}/file"


def _private_calls(station: Station) -> list[tuple[str, str, object]]:
    entry = _entries(station)[0]
    return [
        ("GET", "/books", None),
        ("GET", "/feed", None),
        ("GET", "/feed?since=1&limit=1", None),
        ("GET", _file_path(entry), None),
        ("POST", "/acks", {"items": []}),
        ("POST", "/rescans", {"entry_id": entry.id, "reason": "mờ"}),
        ("GET", "/rescans", None),
        ("GET", f"/books/{BOOK}/export.zip", None),
    ]


def _route_shape(path: str) -> str:
    """/entries/e1/versions/1/file -> the blueprint rule it hits."""
    shape = re.sub(
        r"/entries/[^/]+/versions/[^/]+/", "/entries/<entry_id>/versions/<int:version>/", path
    )
    shape = re.sub(r"/books/[^/]+/export", "/books/<key>/export", shape)
    return shape.split("?")[0]


def test_station_description_is_public_and_pins_the_certificate(
    lan_station: Station, client: Client
) -> None:
    described = client.get("/station").json()
    assert described["id"] == lan_station.info.id
    assert described["name"] == "Trạm thử"
    assert described["office_code"] == "xa-dong-hoa"
    assert described["office_name"] == "UBND xã Đông Hòa"
    assert described["api"] == 1
    assert re.fullmatch(r"[0-9a-f]{64}", described["fingerprint"])
    # The fingerprint is the SHA-256 of the certificate the TLS handshake presents.
    assert described["fingerprint"] == client.peer_fingerprint() == lan_station.lan.fingerprint


def test_pairing_end_to_end_gives_the_token_once(lan_station: Station, client: Client) -> None:
    asked = client.post("/pair", {"name": "Máy nhập liệu 1"})
    assert asked.status == 202
    request = asked.json()
    assert re.fullmatch(r"[0-9]{6}", request["code"]) and request["expires_in"] == 600
    poll = f"/pair/{request['request_id']}"
    mine = {"X-Pairing-Secret": request["secret"]}
    assert client.get(poll, headers=mine).json() == {"status": "pending"}
    listed = lan_station.lan.pairing.pending()
    assert [(r.name, r.code) for r in listed] == [("Máy nhập liệu 1", request["code"])]

    lan_station.approve_pairing(request["request_id"])
    # Another host that learnt the id gets nothing, and takes nothing.
    for stranger in ({}, {"X-Pairing-Secret": "A" * 43}):
        refused = client.get(poll, headers=stranger)
        assert refused.status == 404 and refused.json()["error"] == "unknown_request"
    answer = client.get(poll, headers=mine).json()
    assert answer["status"] == "approved" and answer["collector_id"].startswith("pc-")
    assert client.get(poll, headers=mine).json() == {"status": "collected"}
    # Only a hash is kept.
    stored = (lan_station.data_dir / "db" / "lan" / "pairing.json").read_text()
    assert answer["token"] not in stored and request["secret"] not in stored
    assert hashlib.sha256(answer["token"].encode()).hexdigest() in stored

    client.token = answer["token"]
    assert client.get("/books").status == 200

    denied = client.post("/pair", {"name": "Máy lạ"}).json()
    lan_station.deny_pairing(denied["code"])  # by the code on screen
    shown = {"X-Pairing-Secret": denied["secret"]}
    assert client.get(f"/pair/{denied['request_id']}", headers=shown).json() == {"status": "denied"}
    unknown = client.get("/pair/AAAAAAAAAAAAAAAAAAAAAAAA")
    assert unknown.status == 404 and unknown.json()["error"] == "unknown_request"


def test_every_private_endpoint_needs_a_token_and_revoking_stops_it_at_once(
    lan_station: Station, client: Client
) -> None:
    calls = _private_calls(lan_station)
    rules = {
        (method, rule.rule[len(API_PREFIX) :])
        for rule in lan_station.lan.app.url_map.iter_rules()  # type: ignore[union-attr]
        if rule.rule.startswith(API_PREFIX + "/")
        for method in rule.methods or ()
        if method in {"GET", "POST"}
    }
    covered = {(method, _route_shape(path)) for method, path, _ in calls}
    assert rules - PUBLIC == covered, "every private route is tried below"

    for token in ("", "not-a-token", "A" * 43):
        client.token = token
        for method, path, body in calls:
            answer = client.request(method, path, body)
            assert answer.status == 401, (method, path, token)
            assert answer.json()["error"] == "unauthorized"
            assert answer.headers["WWW-Authenticate"].startswith("Bearer")

    client.token = pair(client, lan_station)
    for method, path, body in calls:
        assert client.request(method, path, body).status in {200, 201}, (method, path)

    # Revoked by another process (the CLI): a Pairing of its own on the same folder.
    other = Pairing(lan_station.lan.db)
    other.revoke(other.collectors()[0].id)
    for method, path, body in calls:
        assert client.request(method, path, body).status == 401, (method, path)


def test_books_and_feed_pages(lan_station: Station, client: Client) -> None:
    client.token = pair(client, lan_station)
    books = client.get("/books").json()["books"]
    assert books == [
        {
            "key": BOOK,
            "ref": "KS/2007/01",
            "type": "KS",
            "year": 2007,
            "book": 1,
            "office": "xa-dong-hoa",
            "profile": "spread-2",
            "entries": 3,
            "published": 3,
        }
    ]
    first = client.get("/feed?limit=2").json()
    assert [i["seq"] for i in first["items"]] == [1, 2]
    assert first["last_seq"] == 3 and first["more"] is True
    rest = client.get("/feed?since=2").json()
    assert [i["seq"] for i in rest["items"]] == [3] and rest["more"] is False
    item = rest["items"][0]
    assert set(item) == {
        "seq", "kind", "entry_id", "book", "number", "version", "file", "sha256", "bytes", "at",
    }  # fmt: skip
    assert client.get("/feed?since=3").json() == {"items": [], "last_seq": 3, "more": False}
    for bad in ("limit=0", "limit=1001", "since=-1", "since=x", "limit=1e3"):
        answer = client.get(f"/feed?{bad}")
        assert answer.status == 400 and answer.json()["error"] == "bad_request", bad


def test_files_by_entry_and_version_with_etag_range_and_304(
    lan_station: Station, client: Client
) -> None:
    client.token = pair(client, lan_station)
    entry = _entries(lan_station)[0]
    version = entry.versions[0]
    whole = client.get(_file_path(entry))
    assert whole.status == 200
    assert whole.headers.get_content_type() == "application/pdf"
    assert hashlib.sha256(whole.body).hexdigest() == version.sha256
    assert whole.headers["ETag"] == f'"{version.sha256}"'
    assert whole.headers["X-Content-SHA256"] == version.sha256
    assert whole.headers["Accept-Ranges"] == "bytes"
    assert int(whole.headers["Content-Length"]) == version.bytes == len(whole.body)

    same = client.get(_file_path(entry), headers={"If-None-Match": f'"{version.sha256}"'})
    assert same.status == 304 and same.body == b""

    part = client.get(_file_path(entry), headers={"Range": "bytes=10-109"})
    assert part.status == 206 and part.body == whole.body[10:110]
    assert part.headers["Content-Range"] == f"bytes 10-109/{version.bytes}"
    tail = client.get(_file_path(entry), headers={"Range": f"bytes={version.bytes - 5}-"})
    assert tail.status == 206 and tail.body == whole.body[-5:]
    beyond = client.get(_file_path(entry), headers={"Range": f"bytes={version.bytes}-"})
    assert beyond.status == 416 and beyond.json()["error"] == "range"
    assert beyond.headers["Content-Range"] == f"bytes */{version.bytes}"

    missing = client.get(_file_path(entry, 2))
    assert missing.status == 404 and missing.json()["error"] == "unknown_version"
    nobody = client.get("/entries/e20990101T000000000000-00000000/versions/1/file")
    assert nobody.status == 404 and nobody.json()["error"] == "unknown_entry"

    # A replaced entry: the new version is served, and the old one still is, unchanged.
    publish_pdf(lan_station.store, entry, image_pdf(200), "test")
    replaced = lan_station.store.get_entry(entry.id).versions[1]
    newer = client.get(_file_path(entry, 2))
    assert hashlib.sha256(newer.body).hexdigest() == replaced.sha256 != version.sha256
    older = client.get(_file_path(entry, 1))
    assert older.body == whole.body


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_malformed_and_traversal_requests_get_4xx_json_and_touch_nothing(
    lan_station: Station, client: Client
) -> None:
    client.token = pair(client, lan_station)
    entry = _entries(lan_station)[0]
    before = _tree(lan_station.data_dir)
    gets = [
        "/entries/..%2F..%2Fweb.secret/versions/1/file",
        "/entries/%2e%2e/versions/1/file",
        "/entries/.hidden/versions/1/file",
        f"/entries/{entry.id}/versions/-1/file",
        f"/entries/{entry.id}/versions/one/file",
        f"/entries/{entry.id}%00/versions/1/file",
        "/books/..%2F..%2Fdb/export.zip",
        "/books/ks-2007-01/export.zip",
        "/books/KS-2099-09/export.zip",
        "/feed?since=%00",
        "/pair/..%2F..%2Fetc%2Fpasswd",
        "/../../../etc/passwd",
        "/nothing-here",
    ]
    for path in gets:
        answer = client.get(path)
        assert 400 <= answer.status < 500, path
        assert "error" in answer.json(), path
    raw = "/api/v1/entries/../../../etc/passwd"
    answer = client.request("GET", raw, prefix="")
    assert 400 <= answer.status < 500
    posts: list[tuple[str, bytes, str]] = [
        ("/acks", b'{"items": []}', "text/plain"),
        ("/acks", b"{not json", "application/json"),
        ("/acks", b"[1, 2]", "application/json"),
        ("/acks", b'{"items": [{"entry_id": "../x", "version": 1}]}', "application/json"),
        ("/acks", b'{"items": [' + b"{}," * 1000 + b"{}]}", "application/json"),
        ("/acks", b'{"items": "' + b"x" * 300_000 + b'"}', "application/json"),
        ("/rescans", b'{"entry_id": "../../x", "reason": "r"}', "application/json"),
        ("/rescans", b'{"entry_id": "e1", "reason": ""}', "application/json"),
        ("/rescans", b'{"entry_id": "e1", "reason": "a\\u0000b"}', "application/json"),
        ("/pair", b'{"name": ""}', "application/json"),
        ("/pair", b'{"name": "' + b"x" * 65 + b'"}', "application/json"),
        ("/pair", b'{"name": "bell\\u0007"}', "application/json"),
        ("/pair", b'{"nom": "x"}', "application/json"),
        ("/pair", b"name=x", "application/x-www-form-urlencoded"),
    ]
    for path, body, kind in posts:
        answer = client.request("POST", path, raw=body, headers={"Content-Type": kind})
        assert 400 <= answer.status < 500, (path, body[:40])
        assert "error" in answer.json(), path
    assert client.request("DELETE", "/books").status == 405
    assert _tree(lan_station.data_dir) == before
    assert lan_station.lan.pairing.pending() == []


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"name": "PC", "n": ' + b"7" * 5000 + b"}", "number that is too long"),
        (b'{"name": "PC", "n": NaN}', "not valid"),
    ],
)
def test_hostile_json_gets_a_clear_400_not_a_traceback(
    lan_station: Station, client: Client, body: bytes, said: str, caplog: pytest.LogCaptureFixture
) -> None:
    client.token = pair(client, lan_station)
    for path in ("/pair", "/acks", "/rescans"):
        answer = client.post(path, raw=body, headers={"Content-Type": "application/json"})
        assert answer.status == 400, (path, answer.json())
        assert answer.json()["error"] == "bad_request" and said in answer.json()["message"]["en"]
        assert answer.json()["message"]["vi"]
    assert "Traceback" not in caplog.text


def test_405_answers_name_the_allowed_methods(lan_station: Station, client: Client) -> None:
    for method, path, allowed in (
        ("DELETE", "/books", {"GET", "HEAD", "OPTIONS"}),
        ("PUT", "/pair", {"POST", "OPTIONS"}),
        ("POST", "/station", {"GET", "HEAD", "OPTIONS"}),
    ):
        answer = client.request(method, path)
        assert answer.status == 405 and answer.json()["error"] == "method", path
        assert {m.strip() for m in answer.headers["Allow"].split(",")} == allowed, path
    app = lan_station.lan.app
    assert app is not None
    screen = app.test_client().put("/", environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert screen.status_code == 405 and "GET" in screen.headers["Allow"]


def test_pairing_requests_are_rate_limited_per_address(client: Client) -> None:
    for _ in range(5):
        assert client.post("/pair", {"name": "PC"}).status == 202
    refused = client.post("/pair", {"name": "PC"})
    assert refused.status == 429 and refused.json()["error"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60


def test_one_address_holds_at_most_two_pending_requests(
    lan_station: Station, client: Client
) -> None:
    asked = [client.post("/pair", {"name": f"PC {n}"}).json() for n in range(4)]
    pending = [r.id for r in lan_station.lan.pairing.pending()]
    assert pending == [a["request_id"] for a in asked[-2:]]  # newer ones replace older


def test_acks_and_rescans_show_per_book_on_the_status_page(
    lan_station: Station, client: Client
) -> None:
    client.token = pair(client, lan_station, "Máy chị Lan")
    first, second, third = _entries(lan_station)
    items = [
        {"entry_id": first.id, "version": 1, "sha256": first.versions[0].sha256},
        {"entry_id": second.id, "version": 1, "sha256": second.versions[0].sha256.upper()},
        {"entry_id": third.id, "version": 1, "sha256": "0" * 64},
        {"entry_id": third.id, "version": 9, "sha256": third.versions[0].sha256},
        {"entry_id": "e-gone", "version": 1, "sha256": "0" * 64},
    ]
    answer = client.post("/acks", {"items": items}).json()
    assert answer["accepted"] == 2
    assert [(r["entry_id"], r["reason"]) for r in answer["rejected"]] == [
        (third.id, "sha256_mismatch"),
        (third.id, "unknown_version"),
        ("e-gone", "unknown_entry"),
    ]
    made = client.post("/rescans", {"entry_id": third.id, "reason": "Mực mờ, chụp lại"})
    assert made.status == 201
    listed = client.get("/rescans").json()["rescans"]
    assert [(r["id"], r["entry_id"], r["reason"]) for r in listed] == [
        (made.json()["id"], third.id, "Mực mờ, chụp lại")
    ]
    gone = client.post("/rescans", {"entry_id": "e-gone", "reason": "x"})
    assert gone.status == 404

    page = _status_page(lan_station)
    table = page[page.index('<table id="collection">') :]
    row = re.search(r'<tr data-book="KS-2007-01">.*?</tr>', table, re.S)
    assert row is not None
    assert ">2/3</td>" in row.group() and "Mực mờ, chụp lại" in row.group()
    assert "Máy chị Lan" in page


def _status_page(station: Station, address: str = "127.0.0.1") -> str:
    app = station.lan.app
    assert app is not None
    with app.test_request_context():
        from flask import url_for

        path = url_for("index")
    response = app.test_client().get(path, environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_status_page_approves_and_revokes_from_loopback_only(
    lan_station: Station, client: Client
) -> None:
    asked = client.post("/pair", {"name": "Máy bàn 2"}).json()
    app = lan_station.lan.app
    assert app is not None
    browser = app.test_client()
    loopback = {"REMOTE_ADDR": "127.0.0.1"}
    with app.test_request_context():
        from flask import url_for

        status_path = url_for("index")
        approve = url_for("lan_admin.approve", request_id=asked["request_id"])
    page = browser.get(status_path, environ_base=loopback).get_data(as_text=True)
    assert "Máy bàn 2" in page and asked["code"] in page
    fingerprint = lan_station.lan.fingerprint.upper()
    assert fingerprint[:4] + " " + fingerprint[4:8] in page  # grouped for reading aloud
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf is not None

    assert browser.post(approve, data={}, environ_base=loopback).status_code == 400
    remote = browser.post(
        approve, data={"csrf": csrf.group(1)}, environ_base={"REMOTE_ADDR": "192.0.2.7"}
    )
    assert remote.status_code == 403
    secret = {"X-Pairing-Secret": asked["secret"]}
    assert client.get(f"/pair/{asked['request_id']}", headers=secret).json() == {
        "status": "pending"
    }
    done = browser.post(approve, data={"csrf": csrf.group(1)}, environ_base=loopback)
    assert done.status_code == 302
    token = client.get(f"/pair/{asked['request_id']}", headers=secret).json()["token"]

    client.token = token
    assert client.get("/books").status == 200
    collector = lan_station.lan.pairing.collectors()[0]
    with app.test_request_context():
        revoke = url_for("lan_admin.revoke", collector_id=collector.id)
    browser.post(revoke, data={"csrf": csrf.group(1)}, environ_base=loopback)
    assert client.get("/books").status == 401


def test_lan_listener_shows_only_the_api_to_other_machines(lan_station: Station) -> None:
    from station.lan.server import lan_gate

    app = lan_station.lan.app
    assert app is not None
    seen: list[str] = []
    gate = lan_gate(app, lambda: (lan_station.info, lan_station.lan.fingerprint))

    def call(path: str, address: str) -> tuple[str, bytes]:
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "SERVER_NAME": "station",
            "SERVER_PORT": "8443",
            "REMOTE_ADDR": address,
            "wsgi.url_scheme": "https",
            "wsgi.input": io.BytesIO(),
        }
        body = b"".join(gate(environ, lambda status, headers, exc=None: seen.append(status)))
        return seen[-1], body

    status, body = call("/status", "192.0.2.7")
    assert status.startswith("403") and lan_station.lan.fingerprint[:4].upper().encode() in body
    status, body = call("/", "192.0.2.7")
    assert status.startswith("200") and "Trạm thử".encode() in body
    status, _ = call("/api/v1/station", "192.0.2.7")
    assert status.startswith("200")
    status, _ = call("/status", "127.0.0.1")
    assert status.startswith("200")


def test_export_zip_holds_the_pdfs_and_the_ministry_workbook(
    lan_station: Station, client: Client
) -> None:
    from openpyxl import load_workbook

    client.token = pair(client, lan_station)
    entries = _entries(lan_station)
    answer = client.get(f"/books/{BOOK}/export.zip")
    assert answer.status == 200 and answer.headers.get_content_type() == "application/zip"
    assert "KS-2007-01.zip" in answer.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(answer.body))
    assert archive.testzip() is None
    pdf_names = [os.path.basename(e.versions[-1].file) for e in entries]
    assert archive.namelist() == [*pdf_names, f"{BOOK}.xlsx"]
    for entry, name in zip(entries, pdf_names, strict=True):
        assert hashlib.sha256(archive.read(name)).hexdigest() == entry.versions[-1].sha256

    workbook = load_workbook(io.BytesIO(archive.read(f"{BOOK}.xlsx")), read_only=True)
    rows = list(workbook["DL Import"].iter_rows(values_only=True))
    header = list(rows[0])
    assert header[:4] == ["STT", "so", "quyenSo", "trangSo"] and len(header) == 61
    filled = [dict(itertools.zip_longest(header, row)) for row in rows[1:]]
    assert [(r["STT"], r["so"], r["quyenSo"], r["trangSo"]) for r in filled] == [
        (1, 1, "01/2007", 11),
        (2, 2, "01/2007", 12),
        (3, 3, "01/2007", 13),
    ]
    assert filled[0]["ngayDangKy"] == "01.03.2007" and filled[0]["nksHoTen"] is None
    files = list(workbook["Tệp PDF"].iter_rows(values_only=True))
    assert [row[2] for row in files[1:]] == pdf_names
    workbook.close()


def test_a_book_export_streams_large_books(lan_station: Station, client: Client) -> None:
    publish_entries(lan_station, 40, first=4)
    client.token = pair(client, lan_station)
    answer = client.get(f"/books/{BOOK}/export.zip")
    assert answer.headers.get("Transfer-Encoding") == "chunked"  # streamed, no length known
    names = zipfile.ZipFile(io.BytesIO(answer.body)).namelist()
    assert len(names) == 44 and names[-1] == f"{BOOK}.xlsx"


def test_a_rotten_file_is_found_by_the_scrub_and_never_served_as_good(
    lan_station: Station, client: Client
) -> None:
    """Issue 15 (M2): bit rot changes neither inode, size nor time; the scrub reads the
    file again, and from then on the API refuses it, the screen and the doctor say so."""
    client.token = pair(client, lan_station)
    entry = _entries(lan_station)[0]
    version = entry.versions[0]
    assert client.get(_file_path(entry)).status == 200  # checked and remembered
    path = lan_station.store.published_path(version.file)
    before = path.stat()
    with open(path, "r+b") as handle:  # one flipped byte, in place
        handle.seek(before.st_size // 2)
        byte = handle.read(1)
        handle.seek(before.st_size // 2)
        handle.write(bytes([byte[0] ^ 0x40]))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))

    report = lan_station.scrub.run_once()
    assert report.checked == 3 and [d.entry for d in report.damaged] == [entry.id]
    refused = client.get(_file_path(entry))
    assert refused.status == 500 and refused.json()["error"] == "file_damaged"
    assert client.get(_file_path(_entries(lan_station)[1])).status == 200  # the others are

    lan_station.device.message_key = ""  # no device configured: its banner would come first
    with create_app(lan_station).test_request_context("/"):
        shown = screens.banner("en")
    assert shown is not None and "damaged" in shown["text"] and shown["level"] == "bad"
    [finding] = doctor_data.check_scrub(Context(lan_station.config, "test"))
    assert finding.status == "fail" and finding.values["count"] == 1
    assert load_report(lan_station.data_dir).damaged == report.damaged  # kept for doctor

    # Published again: the new version is served; the next scrub still finds the old one.
    publish_pdf(lan_station.store, entry, image_pdf(200), "test")
    assert client.get(_file_path(entry, 2)).status == 200
    assert [d.version for d in lan_station.scrub.run_once().damaged] == [1]
