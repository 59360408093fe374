"""A tiny stand-in for the station's API v1 over TLS, for the collector's tests.

Standard library only (``http.server`` + ``ssl``), with a self-signed certificate made
by the ``openssl`` command. It follows the contract in docs/api.md closely enough to
exercise the collector's logic (resume, verification, atomic placing, replacement,
acknowledgements, pairing); the real station is exercised by
tests/integration/test_lan_netns.py; tests/integration/test_collector_fake.py checks
the fake itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from station.collector.client import Address, fingerprint_of

API = "/api/v1"


@dataclass
class Certificate:
    cert: Path
    key: Path
    fingerprint: str


def make_certificate(folder: Path, name: str = "fake") -> Certificate:
    """A self-signed P-256 certificate made by the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={name}"],
        check=True, capture_output=True,
    )  # fmt: skip
    der = ssl.PEM_cert_to_DER_cert(cert.read_text())
    return Certificate(cert, key, fingerprint_of(der))


@dataclass
class Faults:
    """Misbehaviour for the next downloads."""

    cut_after: int | None = None  # send this many body bytes, then drop the connection
    corrupt: int = 0  # flip a byte in this many downloads
    corrupt_entries: set[str] = field(default_factory=set)  # flip a byte in all of these
    cut_entries: dict[str, int] = field(default_factory=dict)  # cut_after, once, per entry
    ignore_range: bool = False
    status: dict[str, int] = field(default_factory=dict)  # path prefix -> forced status


class FakeStation:
    """The fake station's data and its HTTPS server."""

    def __init__(self, certificate: Certificate, station_id: str = "st-fake01") -> None:
        self.certificate = certificate
        self.info = {
            "id": station_id,
            "name": "Trạm giả",
            "office_code": "xa-dong-hoa",
            "office_name": "UBND xã Đông Hòa",
            "api": 1,
            "version": "0.0-test",
            "fingerprint": certificate.fingerprint,
        }
        self.files: dict[tuple[str, int], bytes] = {}
        self.feed: list[dict[str, Any]] = []
        self.current: dict[str, dict[str, Any]] = {}
        self.tokens: set[str] = set()
        self.pairs: dict[str, dict[str, Any]] = {}
        self.approve_after = 1  # polls before a request is approved (None: never)
        self.deny = False
        self.expire = False  # pairing requests answer 404, as when expired
        self.taken = False  # pairing requests answer "collected": the token went elsewhere
        self.acks: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.faults = Faults()
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()

    # -- data -----------------------------------------------------------------------

    def publish(self, entry_id: str, data: bytes, file: str, number: str = "1") -> dict[str, Any]:
        """Publish the next version of ``entry_id`` and append its feed event."""
        with self.lock:
            previous = self.current.get(entry_id)
            version = previous["version"] + 1 if previous else 1
            self.files[(entry_id, version)] = data
            event = {
                "seq": len(self.feed) + 1,
                "kind": "replaced" if previous else "published",
                "entry_id": entry_id,
                "book": "KS-2007-01",
                "number": number,
                "version": version,
                "file": file,
                "sha256": hashlib.sha256(data).hexdigest(),
                "bytes": len(data),
                "at": "2026-01-01T00:00:00Z",
            }
            self.feed.append(event)
            self.current[entry_id] = event
            return event

    def withdraw(self, entry_id: str) -> dict[str, Any]:
        with self.lock:
            event = dict(self.current[entry_id], seq=len(self.feed) + 1, kind="withdrawn")
            self.feed.append(event)
            return event

    def issue_token(self) -> str:
        token = secrets.token_urlsafe(24)
        self.tokens.add(token)
        return token

    def downloads(self) -> list[dict[str, str]]:
        """Headers of every file request, in order."""
        return [{**h, "path": path} for method, path, h in self.requests if "/file" in path]

    # -- server -----------------------------------------------------------------------

    @property
    def address(self) -> Address:
        assert self._server is not None
        return Address("127.0.0.1", self._server.server_address[1])

    def start(self, port: int = 0) -> FakeStation:
        """Serve on 127.0.0.1 (``port`` 0: any free one; a restart passes the old one)."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.certificate.cert, self.certificate.key)
        fake = self

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def get_request(self) -> tuple[socket.socket, Any]:
                sock, addr = super().get_request()
                with fake.lock:
                    fake._connections.add(sock)
                return sock, addr

            def shutdown_request(self, request: Any) -> None:
                with fake.lock:
                    fake._connections.discard(request)
                super().shutdown_request(request)

        server = Server(("127.0.0.1", port), _handler(self))
        server.socket = context.wrap_socket(server.socket, server_side=True)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name="fake-station"
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        with self.lock:
            connections = list(self._connections)
        for sock in connections:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._server.server_close()
        assert self._thread is not None
        self._thread.join()
        self._server = None


def _handler(fake: FakeStation) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _json(self, status: int, payload: Any) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _body(self) -> Any:
            length = int(self.headers.get("Content-Length", "0"))
            return json.loads(self.rfile.read(length) or b"null")

        def _authorised(self) -> bool:
            header = self.headers.get("Authorization", "")
            if header.startswith("Bearer ") and header[7:] in fake.tokens:
                return True
            self._json(401, {"error": "unauthorized"})
            return False

        def _forced(self, path: str) -> bool:
            for prefix, status in fake.faults.status.items():
                if path.startswith(prefix):
                    message = {"vi": "Lỗi giả", "en": "Forced failure"}
                    self._json(status, {"error": "forced", "message": message})
                    return True
            return False

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            fake.requests.append(("GET", self.path, dict(self.headers)))
            path = url.path.removeprefix(API)
            if self._forced(path):
                return
            if path == "/station":
                self._json(200, fake.info)
                return
            match = re.fullmatch(r"/pair/([\w-]+)", path)
            if match:
                self._pair_status(match[1])
                return
            if not self._authorised():
                return
            if path == "/feed":
                query = parse_qs(url.query)
                since, limit = int(query["since"][0]), int(query.get("limit", ["100"])[0])
                items = [e for e in fake.feed if e["seq"] > since]
                last = fake.feed[-1]["seq"] if fake.feed else 0
                self._json(
                    200, {"items": items[:limit], "last_seq": last, "more": len(items) > limit}
                )
                return
            match = re.fullmatch(r"/entries/([\w.-]+)/versions/(\d+)/file", path)
            if match and (match[1], int(match[2])) in fake.files:
                self._file(fake.files[(match[1], int(match[2]))], match[1])
                return
            self._json(404, {"error": "not found"})

        def _pair_status(self, request_id: str) -> None:
            request = fake.pairs.get(request_id)
            secret = self.headers.get("X-Pairing-Secret")
            if request is None or fake.expire or secret != request["secret"]:
                self._json(404, {"error": "expired"})
                return
            request["polls"] += 1
            if fake.deny:
                self._json(200, {"status": "denied"})
            elif request["status"] == "collected" or fake.taken:
                self._json(200, {"status": "collected"})
            elif fake.approve_after is not None and request["polls"] >= fake.approve_after:
                request["status"] = "collected"
                token = fake.issue_token()
                self._json(200, {"status": "approved", "token": token, "collector_id": "c-1"})
            else:
                self._json(200, {"status": "pending"})

        def _file(self, data: bytes, entry_id: str) -> None:
            sha = hashlib.sha256(data).hexdigest()
            start = 0
            ranged = self.headers.get("Range")
            if_range = self.headers.get("If-Range")
            if ranged and not fake.faults.ignore_range and (if_range in (None, f'"{sha}"')):
                start = int(ranged.removeprefix("bytes=").split("-")[0])
                if start >= len(data):
                    self._json(416, {"error": "range"})
                    return
            body = data[start:]
            if fake.faults.corrupt or entry_id in fake.faults.corrupt_entries:
                fake.faults.corrupt = max(0, fake.faults.corrupt - 1)
                body = bytes([body[0] ^ 0xFF]) + body[1:]
            self.send_response(206 if start else 200)
            self.send_header("Content-Type", "application/pdf")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", f'"{sha}"')
            self.send_header("X-Content-SHA256", sha)
            self.send_header("Accept-Ranges", "bytes")
            if start:
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            self.end_headers()
            with fake.lock:
                cut, fake.faults.cut_after = fake.faults.cut_after, None
                if entry_id in fake.faults.cut_entries:
                    cut = fake.faults.cut_entries.pop(entry_id)
            if cut is not None:
                self.wfile.write(body[:cut])
                self.wfile.flush()
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.wfile.write(body)

        def do_POST(self) -> None:
            fake.requests.append(("POST", self.path, dict(self.headers)))
            path = urlsplit(self.path).path.removeprefix(API)
            payload = self._body()
            if self._forced(path):
                return
            if path == "/pair":
                request_id = secrets.token_hex(8)
                secret = secrets.token_urlsafe(32)
                fake.pairs[request_id] = {
                    "name": payload["name"],
                    "status": "pending",
                    "polls": 0,
                    "secret": secret,
                }
                answer = {"request_id": request_id, "code": "482-913", "expires_in": 300}
                self._json(202, {**answer, "secret": secret})
                return
            if not self._authorised():
                return
            if path == "/acks":
                fake.acks.extend(payload["items"])
                self._json(200, {"accepted": len(payload["items"]), "rejected": []})
                return
            self._json(404, {"error": "not found"})

    return Handler


@contextlib.contextmanager
def running(certificate: Certificate) -> Iterator[FakeStation]:
    """A started fake station, stopped at the end of the block."""
    fake = FakeStation(certificate).start()
    try:
        yield fake
    finally:
        fake.stop()
