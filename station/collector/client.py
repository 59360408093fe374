"""HTTPS client of one station's API v1, pinned to the station's certificate.

The station's certificate is self-signed, so no certificate authority can vouch for
it; instead the SHA-256 of the certificate (DER) is compared with the fingerprint
pinned at pairing, right after the TLS handshake and before a single byte of the
request (and its token) is sent. One keep-alive connection is reused for every call.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import ipaddress
import json
import logging
import re
import socket
import ssl
import threading
import urllib.parse
from dataclasses import dataclass
from typing import Any

from station import __version__
from station.collector.errors import (
    FingerprintError,
    HttpStatusError,
    ProtocolError,
    UnauthorizedError,
    UnreachableError,
)

log = logging.getLogger(__name__)

DEFAULT_PORT = 8443
API_PATH = "/api/v1"
MAX_JSON_BYTES = 32 * 1024 * 1024
USER_AGENT = f"ledger-station-collect/{__version__}"
_FINGERPRINT = re.compile(r"^[0-9a-f]{64}$")
_HOST_PORT = re.compile(
    r"^(?:\[(?P<v6>[0-9A-Fa-f:.%\w-]+)\]|(?P<host>[^:\[\]\s]+)):(?P<port>\d{1,5})$"
)


@dataclass(frozen=True, order=True)
class Address:
    """Where a station listens."""

    host: str
    port: int = DEFAULT_PORT

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @classmethod
    def parse(cls, text: str) -> Address | None:
        """``host:port``, ``[v6]:port`` or a bare IP address; None for anything else
        (which the caller treats as a station name to discover)."""
        text = text.strip()
        match = _HOST_PORT.match(text)
        if match:
            port = int(match["port"])
            if not 0 < port < 65536:
                return None
            return cls(match["v6"] or match["host"], port)
        try:
            return cls(str(ipaddress.ip_address(text)))
        except ValueError:
            return None


def is_fingerprint(value: object) -> bool:
    """Whether ``value`` is a lowercase hex SHA-256."""
    return isinstance(value, str) and bool(_FINGERPRINT.match(value))


def fingerprint_of(der: bytes) -> str:
    """The pin of a certificate: lowercase hex SHA-256 of its DER bytes."""
    return hashlib.sha256(der).hexdigest()


def tls_context() -> ssl.SSLContext:
    """TLS 1.2+ without CA validation: the fingerprint pin replaces it."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class FileResponse:
    """An open file download; read it to the end or close it."""

    def __init__(self, client: StationClient, response: http.client.HTTPResponse) -> None:
        self._client = client
        self._response = response
        self.status = response.status
        self.headers = response.headers

    def read(self, size: int) -> bytes:
        """Up to ``size`` bytes; b"" at the end. Network faults become UnreachableError."""
        try:
            data = self._response.read(size)
        except (OSError, http.client.HTTPException) as exc:
            self._client.close()
            raise UnreachableError(station=self._client.label, detail=_describe(exc)) from exc
        if not data and size and (self._response.length or 0) > 0:
            # http.client reports a body cut short as a plain end: say what it is.
            self._client.close()
            detail = f"connection closed {self._response.length} bytes before the end"
            raise UnreachableError(station=self._client.label, detail=detail)
        return data

    def readinto(self, buffer: memoryview) -> int:
        """Fill ``buffer`` (up to its size); 0 at the end. As :meth:`read`, without copies."""
        try:
            count = self._response.readinto(buffer)
        except (OSError, http.client.HTTPException) as exc:
            self._client.close()
            raise UnreachableError(station=self._client.label, detail=_describe(exc)) from exc
        if not count and len(buffer) and (self._response.length or 0) > 0:
            self._client.close()
            detail = f"connection closed {self._response.length} bytes before the end"
            raise UnreachableError(station=self._client.label, detail=detail)
        return count

    def close(self, complete: bool) -> None:
        """Release the response; a download abandoned midway also drops the connection."""
        if not complete or self._response.will_close:
            self._client.close()
        else:
            self._response.close()


class StationClient:
    """Calls to one station at one address; not shared between threads."""

    def __init__(
        self,
        address: Address,
        *,
        fingerprint: str | None,
        token: str | None = None,
        timeout: float = 30.0,
        base_path: str = API_PATH,
        label: str = "",
    ) -> None:
        self.address = address
        self.fingerprint = fingerprint
        self.token = token
        self.timeout = timeout
        self.base_path = base_path.rstrip("/")
        self.label = label or str(address)
        self.peer_fingerprint: str | None = None
        self._conn: http.client.HTTPSConnection | None = None
        self._lock = threading.Lock()
        self._clones: list[StationClient] = []

    def clone(self) -> StationClient:
        """Another client to the same station (its own connection, same pin and token);
        :meth:`abort` on this one aborts the clones too."""
        twin = StationClient(
            self.address,
            fingerprint=self.fingerprint,
            token=self.token,
            timeout=self.timeout,
            base_path=self.base_path,
            label=self.label,
        )
        with self._lock:
            self._clones.append(twin)
        return twin

    def close_clones(self) -> None:
        """Close and forget every clone."""
        with self._lock:
            clones, self._clones = self._clones, []
        for twin in clones:
            twin.close()

    # -- connection ---------------------------------------------------------------

    def connect(self) -> http.client.HTTPSConnection:
        """Open (or reuse) the connection; the certificate pin is checked here."""
        if self._conn is not None:
            return self._conn
        conn = http.client.HTTPSConnection(
            self.address.host, self.address.port, timeout=self.timeout, context=tls_context()
        )
        try:
            conn.connect()
            assert isinstance(conn.sock, ssl.SSLSocket)
            der = conn.sock.getpeercert(binary_form=True)
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise UnreachableError(station=self.label, detail=_describe(exc)) from exc
        got = fingerprint_of(der or b"")
        if self.fingerprint is not None and got != self.fingerprint:
            conn.close()
            raise FingerprintError(station=self.label, got=got, expected=self.fingerprint)
        self.peer_fingerprint = got
        with self._lock:
            self._conn = conn
        return conn

    def close(self) -> None:
        """Drop the connection (the next call opens and checks a new one)."""
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def abort(self) -> None:
        """From another thread: break a blocked read so a stop takes effect at once."""
        with self._lock:
            sock = self._conn.sock if self._conn is not None else None
            clones = list(self._clones)
        for twin in clones:
            twin.abort()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _send(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> http.client.HTTPResponse:
        all_headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if self.token:
            all_headers["Authorization"] = f"Bearer {self.token}"
        if body is not None:
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        for attempt in range(2):
            reused = self._conn is not None
            conn = self.connect()
            try:
                conn.request(method, self.base_path + path, body=body, headers=all_headers)
                return conn.getresponse()
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                # A kept-alive connection the server has since closed: one fresh try.
                if not reused or attempt:
                    raise UnreachableError(station=self.label, detail=_describe(exc)) from exc
                log.debug("%s: stale connection (%s), reconnecting", self.label, exc)
        raise AssertionError("unreachable")

    # -- JSON calls ------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        payload: Any = None,
        *,
        ok: tuple[int, ...] = (200,),
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        """Send ``payload`` as JSON and return (status, decoded JSON body)."""
        body = None if payload is None else json.dumps(payload).encode()
        response = self._send(method, path, body, headers)
        data = self._read_body(response)
        if response.status == 401:
            raise UnauthorizedError(station=self.label)
        if response.status not in ok:
            raise _status_error(self.label, response, data)
        try:
            return response.status, json.loads(data)
        except ValueError as exc:
            raise ProtocolError(station=self.label, detail=f"{path}: not JSON") from exc

    def _read_body(self, response: http.client.HTTPResponse) -> bytes:
        length = response.getheader("Content-Length")
        if length is not None and length.isdigit() and int(length) > MAX_JSON_BYTES:
            self.close()
            raise ProtocolError(station=self.label, detail=f"answer of {length} bytes")
        try:
            data = response.read(MAX_JSON_BYTES + 1)
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise UnreachableError(station=self.label, detail=_describe(exc)) from exc
        if len(data) > MAX_JSON_BYTES:
            self.close()
            raise ProtocolError(station=self.label, detail="answer too large")
        if response.will_close:
            self.close()
        return data

    def get(
        self, path: str, *, ok: tuple[int, ...] = (200,), headers: dict[str, str] | None = None
    ) -> Any:
        """GET a JSON resource."""
        return self.call("GET", path, ok=ok, headers=headers)[1]

    # -- files -------------------------------------------------------------------------

    def open_file(
        self, entry_id: str, version: int, *, offset: int = 0, etag: str | None = None
    ) -> FileResponse:
        """Start downloading a file version, from ``offset`` when resuming."""
        path = f"/entries/{urllib.parse.quote(entry_id, safe='')}/versions/{version}/file"
        headers = {"Accept": "application/pdf"}
        if offset > 0:
            headers["Range"] = f"bytes={offset}-"
            if etag:
                # Only resume if the file is still the one the partial came from.
                headers["If-Range"] = etag
        response = self._send("GET", path, None, headers)
        if response.status == 401:
            self._read_body(response)
            raise UnauthorizedError(station=self.label)
        if response.status not in (200, 206):
            raise _status_error(self.label, response, self._read_body(response))
        return FileResponse(self, response)


def _status_error(label: str, response: http.client.HTTPResponse, data: bytes) -> HttpStatusError:
    """The error for an unexpected status, with the station's explanation if it gave one."""
    detail = data[:200].decode("utf-8", "replace").strip() or response.reason
    texts: dict[str, str] = {}
    with contextlib.suppress(ValueError):
        body = json.loads(data)
        if isinstance(body, dict):
            message = body.get("message")
            if isinstance(message, dict):
                texts = {k: str(v) for k, v in message.items() if isinstance(k, str)}
            detail = str(body.get("error") or detail)
    return HttpStatusError(station=label, status=response.status, detail=detail, texts=texts)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timed out"
    text = str(exc) or type(exc).__name__
    return text
