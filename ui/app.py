"""The station's web app (Flask app factory, in the manner of flaskr).

Here: the status page (device, current book, counts of pages and entries) with a
button that captures one page, in Vietnamese by default and English on request. The
touch UI for scanning shifts grows from this.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import threading
from typing import Any

from flask import (
    Flask,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers.response import Response

from station import messages
from station.errors import StationError
from station.fsutil import write_atomic
from station.service import Station
from station.ui.texts import TEXTS

log = logging.getLogger(__name__)

#: Largest request body accepted anywhere (phone uploads come with a later issue).
MAX_BODY = 1 * 1024 * 1024


def create_app(station: Station, test_config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app around a started :class:`Station`."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=_secret_key(station),
        MAX_CONTENT_LENGTH=MAX_BODY,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
    )
    if test_config:
        app.config.update(test_config)
    app.extensions["station"] = station
    app.extensions["capture_lock"] = threading.Lock()
    _register_routes(app)
    _register_errors(app)
    return app


def _secret_key(station: Station) -> bytes:
    path = station.data_dir / "web.secret"
    if not path.exists():
        write_atomic(path, secrets.token_bytes(32))
        path.chmod(0o600)
    return path.read_bytes()


def _lang() -> str:
    lang = request.args.get("lang") or session.get("lang") or "vi"
    if lang not in messages.LANGUAGES:
        lang = "vi"
    session["lang"] = lang
    return lang


def _csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        session["csrf"] = token
    return str(token)


def _check_csrf() -> None:
    sent = request.form.get("csrf", "")
    if not hmac.compare_digest(sent, session.get("csrf", "")):
        abort(400, description="csrf")


def _station() -> Station:
    station: Station = current_app.extensions["station"]
    return station


def _register_routes(app: Flask) -> None:
    @app.get("/")
    def index() -> str:
        lang = _lang()
        station = _station()
        failed = station.intake.queue.failed()
        return render_template(
            "status.html",
            t=TEXTS[lang],
            lang=lang,
            status=station.status(),
            failed=[(job, reason.get(lang, "")) for job, reason in failed[-5:]],
            flash_message=session.pop("flash", ""),
            csrf=_csrf_token(),
        )

    @app.get("/status.json")
    def status_json() -> Response:
        return jsonify(_station().status())

    @app.post("/capture")
    def capture() -> Response:
        _check_csrf()
        lang = _lang()
        station = _station()
        if station.current_book is None:
            session["flash"] = TEXTS[lang]["no_book"]
            return redirect(url_for("index"))
        lock: threading.Lock = app.extensions["capture_lock"]
        if not lock.acquire(blocking=False):
            session["flash"] = TEXTS[lang]["busy"]
            return redirect(url_for("index"))
        try:
            book = station.store.get_book(station.current_book)
            driver = station.make_driver(first_entry=book.next_entry, profile=book.profile)
            try:
                jobs = station.capture(driver, book, 1)
            finally:
                station.release(driver)
            session["flash"] = TEXTS[lang]["captured"].format(count=len(jobs))
        except StationError as exc:
            session["flash"] = exc.message(lang)
        finally:
            lock.release()
        return redirect(url_for("index"))


def _register_errors(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Any, int]:
        return _error_response(exc.code or 500, f"http.{exc.code}")

    @app.errorhandler(StationError)
    def station_error(exc: StationError) -> tuple[Any, int]:
        log.warning("request failed: %s", exc.message("en"))
        return _error_response(400, "", exc.message(_lang()))

    @app.errorhandler(Exception)
    def bug(exc: Exception) -> tuple[Any, int]:
        log.exception("unexpected error serving %s", request.path)
        return _error_response(500, "http.500")


def _error_response(code: int, key: str, text: str = "") -> tuple[Any, int]:
    lang = request.args.get("lang") if request.args.get("lang") in messages.LANGUAGES else "vi"
    t = TEXTS[lang or "vi"]
    text = text or t.get(key, t["http.other"])
    if request.path.endswith(".json") or request.accept_mimetypes.best == "application/json":
        return jsonify({"error": text, "status": code}), code
    return render_template("error.html", t=t, lang=lang, code=code, text=text), code
