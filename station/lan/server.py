"""The TLS listener entry PCs connect to: cheroot serving the station's Flask app.

waitress (the loopback UI's server) has no TLS, and wrapping its non-blocking
sockets in TLS is fragile; cheroot (CherryPy's WSGI server, pure Python, in Debian as
python3-cheroot) serves TLS through the standard ``ssl`` module, keeps idle
keep-alive connections off its worker threads, and stops cleanly.

Until the admin PIN exists (touch UI issue), only ``/api/`` is open to the LAN;
every other path answers a small page naming the station and its certificate
fingerprint (200 at ``/``, 403 elsewhere). Loopback peers see the whole app.
"""

from __future__ import annotations

import html
import logging
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from station.core.models import StationInfo
from station.lan.errors import LanError
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

    def start(self) -> int:
        """Bind and serve in a thread; returns the port (the chosen one for port 0)."""
        from cheroot.ssl.builtin import BuiltinSSLAdapter
        from cheroot.wsgi import Server

        server = Server(
            (self.host, self.port),
            self.app,
            numthreads=self.threads,
            server_name="ledger-station",
            shutdown_timeout=5,
        )
        # cheroot reads headers and bodies of any size unless told; Flask applies the
        # per-route limits below these (256 KB for the API's JSON).
        server.max_request_header_size = MAX_HEADERS
        server.max_request_body_size = MAX_BODY
        adapter = BuiltinSSLAdapter(str(self.certificate.cert_path), str(self.certificate.key_path))
        adapter.context = server_context(self.certificate)
        server.ssl_adapter = adapter
        try:
            server.prepare()
        except OSError as exc:
            raise LanError(500, "port_busy", port=self.port, detail=str(exc)) from exc
        self.port = int(server.socket.getsockname()[1])
        self._server = server
        self._thread = threading.Thread(target=server.serve, name="lan-tls", daemon=True)
        self._thread.start()
        log.info("TLS listener on %s port %d", self.host, self.port)
        return self.port

    def stop(self) -> None:
        """Stop accepting, finish the requests in progress, join the threads."""
        server, self._server = self._server, None
        if server is not None:
            server.stop()
        if self._thread is not None:
            self._thread.join(timeout=15)
            self._thread = None


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
