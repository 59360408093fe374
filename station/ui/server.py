"""Run the station behind waitress, a production WSGI server, until SIGTERM or Ctrl+C."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from waitress.server import create_server

from station.app.station import Station
from station.core.config import Config
from station.core.models import BookRef
from station.ui import live
from station.ui.app import create_app

log = logging.getLogger(__name__)

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
        server = create_server(
            app,
            host=config.web.host,
            port=config.web.port,
            # Each open screen's live stream holds a thread: room for them on top.
            threads=config.web.threads + live.MAX_STREAMS,
            # Lets waitress notice a screen that went away while its stream runs.
            channel_request_lookahead=1,
            # waitress reads up to 1 GB before Flask can refuse it; no request of ours
            # is larger than an upload batch (Flask then applies the per-route limits).
            max_request_body_size=(config.web.upload_max_mb + 1) * 1024 * 1024,
        )
        stop = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            log.info("signal %s: shutting down", signum)
            stop.set()
            live.stop(app)  # open streams end within a second
            server.close()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        log.info("serving on http://%s:%s", config.web.host, config.web.port)
        try:
            server.run()
        except OSError:
            if not stop.is_set():
                raise
        return 0
    finally:
        station.stop()


def _open_default_book(station: Station, demo: bool) -> None:
    books = station.store.list_books()
    if books:
        station.current_book = books[-1].ref.key
    elif demo:
        station.open_book(BookRef.parse(DEMO_BOOK))
