"""Run the station behind waitress, a production WSGI server, until SIGTERM or Ctrl+C."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from waitress.server import create_server

from station.config import Config
from station.models import BookRef
from station.service import Station
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
        app = create_app(station)
        server = create_server(
            app, host=config.web.host, port=config.web.port, threads=config.web.threads
        )
        stop = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            log.info("signal %s: shutting down", signum)
            stop.set()
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
