"""Live updates for the touch screens: the station's events as server-sent events.

Each open stream holds one of waitress's worker threads for as long as the screen is
open, so the number of streams is capped (:data:`MAX_STREAMS`; the server adds as
many threads) and a screen refused a stream polls instead. A reconnecting browser's
``Last-Event-ID`` is ignored: every stream starts with a ``resync`` event, after
which the screen fetches its state once and then follows the events.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

from flask import Blueprint, Flask, Response, current_app, jsonify, request

from station.core.errors import AuthError
from station.ui import gate
from station.ui.context import lang, station
from station.ui.texts import ui_text

bp = Blueprint("live", __name__)

#: Streams served at once; the web server gets this many extra threads.
MAX_STREAMS = 4
#: A comment line this often keeps proxies and the browser from timing the stream out.
HEARTBEAT_SECONDS = 15.0
#: How often a waiting stream looks whether the server is stopping.
WAKE_SECONDS = 1.0
#: Milliseconds the browser waits before reconnecting a broken stream.
RETRY_MS = 3000


def install(app_extensions: dict[str, object]) -> None:
    """Set up the app-wide stream slots and the stop signal."""
    app_extensions["live_slots"] = threading.BoundedSemaphore(MAX_STREAMS)
    app_extensions.setdefault("stopping", threading.Event())


def stop(app: Flask) -> None:
    """End every open stream (the server is shutting down)."""
    stopping = app.extensions.get("stopping")
    if isinstance(stopping, threading.Event):
        stopping.set()


@bp.get("/events")
def events() -> Response:
    if not gate.local_or_admin():
        raise AuthError("ui.admin_needed")
    bus = station().events
    slots: threading.BoundedSemaphore = current_app.extensions["live_slots"]
    stopping: threading.Event = current_app.extensions["stopping"]
    if stopping.is_set() or not slots.acquire(blocking=False):
        response = jsonify({"error": ui_text("ui.live_full", lang()), "status": 503})
        response.status_code = 503
        response.headers["Retry-After"] = "30"
        return response
    subscription = bus.subscribe()
    released = threading.Lock()
    # waitress tells when the screen went away (see channel_request_lookahead in
    # server.py); elsewhere only a failed write does.
    gone = request.environ.get("waitress.client_disconnected") or (lambda: False)

    def finish() -> None:
        # Called by the generator's end and by the server closing the response,
        # whichever comes first (a stream never started runs no finally block).
        if released.acquire(blocking=False):
            subscription.close()
            slots.release()

    def stream() -> Iterator[str]:
        try:
            yield f"retry: {RETRY_MS}\nid: {bus.last_id}\nevent: resync\ndata: {{}}\n\n"
            beat = time.monotonic()
            while not stopping.is_set() and not subscription.closed and not gone():
                event = subscription.get(timeout=WAKE_SECONDS)
                now = time.monotonic()
                if event is not None:
                    yield event.to_sse()
                    beat = now
                elif now - beat >= HEARTBEAT_SECONDS:
                    yield ": heartbeat\n\n"
                    beat = now
        finally:
            finish()

    response = Response(stream(), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"
    response.call_on_close(finish)
    return response
