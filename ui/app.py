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
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers.response import Response

from station import messages
from station.errors import StationError
from station.fsutil import write_atomic
from station.service import Station
from station.ui.texts import TEXTS
from station.ui.upload import chosen, is_loopback, take_uploads

log = logging.getLogger(__name__)

#: Largest request body accepted anywhere but /upload (web.upload_max_mb there).
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

    @app.get("/preview.mjpg")
    def preview() -> Response:
        """The camera's live preview as MJPEG; 404 when the capture device is no camera."""
        from station.drivers.camera import MJPEG_MIMETYPE, CameraDriver, mjpeg_parts

        station = _station()
        if station.config.capture.device != "camera":
            abort(404)
        driver = station.make_driver()
        if not isinstance(driver, CameraDriver):
            abort(404)
        driver.open()  # a missing camera is a StationError page, not a broken stream
        response = Response(mjpeg_parts(driver.preview()), mimetype=MJPEG_MIMETYPE)
        response.headers["Cache-Control"] = "no-store"
        response.call_on_close(lambda: station.release(driver))
        return response

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

    @app.route("/upload", methods=["GET", "POST"])
    def upload() -> tuple[Any, int]:
        """Photos from a phone (for now only the station's own browser) into the open book."""
        if not is_loopback(request.remote_addr):
            # Pairing comes with the LAN issue; until then nobody else may send pages.
            return render_template("upload_denied.html", t=TEXTS["vi"], texts=TEXTS, lang="vi"), 403
        lang = _lang()
        t = TEXTS[lang]
        station = _station()
        limit_mb = station.config.web.upload_max_mb
        code, notice, results = 200, "", []
        if request.method == "POST":
            request.max_content_length = limit_mb * 1024 * 1024
            try:
                _check_csrf()  # reads the form, so an oversized body fails here
                files = chosen(request.files.getlist("photos"))
            except RequestEntityTooLarge:
                code, notice = 413, t["upload_too_big"].format(limit=limit_mb)
            else:
                if not files:
                    code, notice = 400, t["upload_none"]
                elif station.current_book is None:
                    code, notice = 409, t["no_book"]
                else:
                    results = take_uploads(station, files, lang, request.remote_addr or "")
                    saved = sum(1 for r in results if r.saved)
                    notice = t["captured"].format(count=saved)
        if request.accept_mimetypes.best == "application/json":
            body = {"notice": notice, "results": [r.to_dict() for r in results]}
            return jsonify(body), code
        page = render_template(
            "upload.html",
            t=t,
            lang=lang,
            book=station.current_book,
            limit_mb=limit_mb,
            notice=notice,
            results=results,
            csrf=_csrf_token(),
        )
        return page, code


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
