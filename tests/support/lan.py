"""A station serving the LAN API on loopback, and a small pinned HTTPS client for it."""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from station.app.station import Station
from station.core import config
from station.core.models import Book, BookRef, Capture, Entry, Region, new_id
from station.processing.page import publish_pdf
from station.ui.app import create_app
from tests.support.store import image_pdf

BOOK = "KS-2007-01"


def lan_config(data_dir: Path, announce: bool = False) -> config.Config:
    """A station listening with TLS on 127.0.0.1, any free port, loopback only."""
    text = f"""
[storage]
data_dir = "{data_dir}"
reserve_mb = 50
[station]
name = "Trạm thử"
office_code = "xa-dong-hoa"
office_name = "UBND xã Đông Hòa"
[lan]
host = "127.0.0.1"
port = 0
interfaces = ["lo"]
announce = {"true" if announce else "false"}
"""
    return config.parse(text, "test", environ={})


@contextlib.contextmanager
def serving_lan(station_config: config.Config, entries: int) -> Iterator[Station]:
    """A started station with its LAN listener up and ``entries`` published entries."""
    station = Station(station_config).start()
    try:
        station.serve_lan(create_app(station))
        assert station.lan.listener is not None, station.lan.error
        publish_entries(station, entries)
        yield station
    finally:
        station.stop()


def publish_entries(station: Station, count: int, first: int = 1) -> list[Entry]:
    """Publish ``count`` entries (numbers from ``first``, one page each) into BOOK."""
    store = station.store
    if not store.has_book(BOOK):
        store.create_book(Book(BookRef.parse(BOOK), office_code="xa-dong-hoa"))
    published = []
    for number in range(first, first + count):
        capture_id = new_id("c")
        store.add_capture(
            Capture(
                id=capture_id,
                book=BOOK,
                source="simulated",
                device="sim",
                dpi=300,
                captured_at="2024-05-01T08:00:00Z",
                raw_path=f"captures/{capture_id}.png",
                sha256=f"{number:064x}",
                width=100,
                height=80,
                sequence=number,
            )
        )
        entry = Entry(
            id=new_id("e"),
            book=BOOK,
            number=str(number),
            regions=[Region(capture_id, (0, 0, 10, 10), page_number=10 + number)],
            registration_date=f"2007-03-{number:02d}",
        )
        store.save_entry(entry)
        publish_pdf(store, entry, image_pdf(number), "test")
        published.append(store.get_entry(entry.id))
    return published


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        assert self.headers.get_content_type() == "application/json", self.body[:200]
        return json.loads(self.body)


class Client:
    """HTTPS to the station, trusting exactly its certificate (pinned, not a CA)."""

    def __init__(self, port: int, cert_pem: str) -> None:
        self.port = port
        self.context = ssl.create_default_context(cadata=cert_pem)
        self.token = ""

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
        prefix: str = "/api/v1",
    ) -> Answer:
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.context, timeout=30)
        sent = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            sent.setdefault("Content-Type", "application/json")
        if self.token:
            sent.setdefault("Authorization", f"Bearer {self.token}")
        try:
            conn.request(method, prefix + path, body=data, headers=sent)
            response = conn.getresponse()
            return Answer(response.status, response.headers, response.read())
        finally:
            conn.close()

    def get(self, path: str, **kwargs: Any) -> Answer:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Answer:
        return self.request("POST", path, body, **kwargs)

    def peer_fingerprint(self) -> str:
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.context, timeout=30)
        try:
            conn.connect()
            assert conn.sock is not None
            der = conn.sock.getpeercert(binary_form=True)  # type: ignore[union-attr]
        finally:
            conn.close()
        return hashlib.sha256(der or b"").hexdigest()


def pair(client: Client, station: Station, name: str = "Máy nhập liệu 1") -> str:
    """Pair through HTTP, approving in-process; returns the token."""
    asked = client.post("/pair", {"name": name}).json()
    station.approve_pairing(asked["request_id"])
    secret = {"X-Pairing-Secret": asked["secret"]}
    answer = client.get(f"/pair/{asked['request_id']}", headers=secret).json()
    assert answer["status"] == "approved"
    return str(answer["token"])
