"""Run the station behind waitress, a production WSGI server, until SIGTERM or Ctrl+C."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from flask import Flask
from waitress.server import create_server

from station.app.safe_mode import SafeMode
from station.app.station import Station
from station.core.config import Config, WebSection
from station.core.errors import ConfigError
from station.core.models import BookRef
from station.ui import live
from station.ui.app import create_app
from station.ui.safe_app import create_safe_app

log = logging.getLogger(__name__)

#: How many times the upload limit waitress still reads, so that Flask can refuse an
#: oversized body in Vietnamese (see :func:`_run`).
OVERSIZE_FACTOR = 4

#: How long requests still running at shutdown may take to finish, in seconds.
REQUEST_GRACE = 10.0
#: The book the demo opens when the station has none yet.
DEMO_BOOK = "KS/2007/01"


def serve(config: Config, demo: bool = False) -> int:
    """Start the station and its web server; return when asked to stop."""
    station = Station(config).start()
    try:
        if demo or station.current_book is None:
            _open_default_book(station, demo)
        # One app for both listeners (loopback HTTP here, LAN TLS in station.lan).
        app = create_app(station)
        station.serve_lan(app)
        _run(app, config.web, on_close=lambda: live.stop(app))
        return 0
    finally:
        station.stop()


def serve_safe(
    path: Path, error: ConfigError, web: WebSection, restart: Callable[[], object]
) -> None:
    """Serve the safe-mode screen for the broken configuration at ``path`` until the
    process is asked to stop, or until it is fixed: then ``restart`` (which starts the
    station afresh and does not return; open browser connections would keep this
    server's loop alive, so it is not waited for)."""
    safe = SafeMode(path, error)
    fixed = threading.Event()

    def when_fixed() -> None:
        fixed.wait()
        safe.close()  # the station takes the data folder next
        restart()

    try:
        app = create_safe_app(safe, on_fixed=fixed.set)
        log.warning("configuration %s is broken: serving safe mode", path)
        threading.Thread(target=when_fixed, name="safe-mode-restart", daemon=True).start()
        _run(app, web)
    finally:
        safe.close()


def _run(app: Flask, web: WebSection, on_close: Callable[[], None] | None = None) -> None:
    """Serve ``app`` with waitress until SIGTERM or Ctrl+C."""
    server = create_server(
        app,
        host=web.host,
        port=web.port,
        # Each open screen's live stream holds a thread: room for them on top.
        threads=web.threads + live.MAX_STREAMS,
        # Lets waitress notice a screen that went away while its stream runs.
        channel_request_lookahead=1,
        # waitress reads up to 1 GB before Flask can refuse it, and refuses more with
        # its own English page. Bodies up to OVERSIZE_FACTOR times an upload batch
        # reach Flask, which refuses what is over each route's limit in the reader's
        # words with the limit (a 45 MB batch against 40 MB is the usual case).
        max_request_body_size=OVERSIZE_FACTOR * (web.upload_max_mb + 1) * 1024 * 1024,
    )
    stop = threading.Event()

    def close() -> None:
        stop.set()
        if on_close is not None:
            on_close()  # open streams end within a second
        server.close()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("signal %s: shutting down", signum)
        close()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log.info("serving on http://%s:%s", web.host, web.port)
    try:
        server.run()
    except OSError:
        if not stop.is_set():
            raise
    finally:
        # Let requests still running finish (a page image being made, say) before the
        # station stops: a worker thread killed inside OpenCV at interpreter exit
        # aborts the process ("terminate called without an active exception").
        if not server.task_dispatcher.shutdown(cancel_pending=True, timeout=REQUEST_GRACE):
            log.warning("some requests were still running after %s s at shutdown", REQUEST_GRACE)


def _open_default_book(station: Station, demo: bool) -> None:
    books = station.books()
    if books:
        station.current_book = books[-1].ref.key
    elif demo:
        station.open_book(BookRef.parse(DEMO_BOOK))
