"""The TLS listener entry PCs connect to: a TLS front before cheroot serving the app.

cheroot (CherryPy's WSGI server, pure Python, in Debian as python3-cheroot) keeps idle
keep-alive connections off its worker threads and stops cleanly, but its own TLS
handshakes in the accepting thread and its workers wait for slow headers, so a few
idle or slow clients stalled the API. It therefore listens only on an abstract unix
socket (Linux; no file to leave behind); ``front.py`` faces the network, handshakes,
and hands cheroot whole requests with the client's address and a secret of this
listener, which ``_from_front`` checks before putting the address in the environ: a
local process that finds the socket and connects without the front counts as an
unknown remote peer, never as loopback.

Until the admin PIN exists (touch UI issue), only ``/api/`` is open to the LAN;
every other path answers a small page naming the station and its certificate
fingerprint (200 at ``/``, 403 elsewhere). Loopback peers see the whole app.
"""

from __future__ import annotations

import hmac
import html
import logging
import secrets
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from station.core.models import StationInfo
from station.lan.errors import LanError
from station.lan.front import PEER_HEADER, TlsFront
from station.lan.interfaces import is_loopback
from station.lan.tls import Certificate, grouped, server_context

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from cheroot.wsgi import Server

log = logging.getLogger(__name__)

MAX_HEADERS = 64 * 1024
MAX_BODY = 64 * 1024 * 1024


class TlsListener:
    """One cheroot server on ``host:port`` with the station's certificate."""

    def __init__(
        self, app: WSGIApplication, host: str, port: int, threads: int, certificate: Certificate
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.threads = threads
        self.certificate = certificate
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._front: TlsFront | None = None

    def start(self) -> int:
        """Bind and serve in threads; returns the port (the chosen one for port 0)."""
        from cheroot.wsgi import Server

        backend = f"\0ledger-station-lan-{secrets.token_hex(8)}"
        secret = secrets.token_urlsafe(24)
        server = Server(
            backend,
            _from_front(self.app, secret),
            numthreads=self.threads,
            server_name="ledger-station",
            shutdown_timeout=5,
        )
        # cheroot reads headers and bodies of any size unless told; Flask applies the
        # per-route limits below these (256 KB for the API's JSON).
        server.max_request_header_size = MAX_HEADERS
        server.max_request_body_size = MAX_BODY
        front = TlsFront(self.host, self.port, server_context(self.certificate), backend, secret)
        try:
            server.prepare()
            self.port = front.start()
        except OSError as exc:
            server.stop()
            raise LanError(500, "port_busy", port=self.port, detail=str(exc)) from exc
        self._server, self._front = server, front
        self._thread = threading.Thread(target=server.serve, name="lan-wsgi", daemon=True)
        self._thread.start()
        log.info("TLS listener on %s port %d", self.host, self.port)
        return self.port

    def stop(self) -> None:
        """Stop accepting, finish the requests in progress, join the threads."""
        front, self._front = self._front, None
        if front is not None:
            front.stop()
        server, self._server = self._server, None
        if server is not None:
            server.stop()
        if self._thread is not None:
            self._thread.join(timeout=15)
            self._thread = None


def _from_front(app: WSGIApplication, secret: str) -> WSGIApplication:
    """``app`` seeing the client's address the front vouches for, and HTTPS.

    The front strips PEER_HEADER from what clients send and sets its own, ``<secret>
    <address>``; without the secret the peer counts as unknown, never as loopback."""
    key = "HTTP_" + PEER_HEADER.upper().replace("-", "_")

    def wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        shown, _, address = str(environ.pop(key, "")).partition(" ")
        vouched = hmac.compare_digest(shown.encode(), secret.encode())
        environ["REMOTE_ADDR"] = address if vouched else ""
        environ["wsgi.url_scheme"] = "https"
        environ["HTTPS"] = "on"
        return app(environ, start_response)

    return wsgi


def lan_gate(app: WSGIApplication, info: Callable[[], tuple[StationInfo, str]]) -> WSGIApplication:
    """``app`` with only the API open to other machines (see the module docstring)."""

    def gate(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        if path.startswith("/api/") or is_loopback(environ.get("REMOTE_ADDR")):
            return app(environ, start_response)
        body = landing_page(*info())
        status = "200 OK" if path == "/" else "403 Forbidden"
        start_response(
            status,
            [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Length", str(len(body))),
                ("Cache-Control", "no-store"),
            ],
        )
        return [body]

    return gate


def landing_page(station: StationInfo, fingerprint: str) -> bytes:
    """What a browser on the LAN sees: who the station is, in both languages."""
    name = html.escape(station.name)
    office = html.escape(station.office_name or station.office_code)
    fp = html.escape(grouped(fingerprint))
    page = f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>{name}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 2em auto">
<h1>{name}</h1><p>{office}</p>
<p>Trạm số hóa sổ hộ tịch. Máy nhập liệu nhận tệp bằng chương trình
<code>station-collect</code> sau khi ghép nối với trạm. Trang quản trị qua mạng
cần mã PIN quản trị.</p>
<p lang="en">Civil-status ledger station. Entry PCs collect the files with
<code>station-collect</code> after pairing with the station. The admin pages over
the network need the admin PIN.</p>
<p>Dấu vân tay chứng chỉ / Certificate fingerprint (SHA-256):<br><code>{fp}</code></p>
</body></html>
"""
    return page.encode("utf-8")
