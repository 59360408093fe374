"""The station's web app (Flask app factory, in the manner of flaskr).

``/`` leads to the touch screens (blueprints in ``*_views.py``: first-boot wizard,
shifts, books, capture, review, overview, progress, admin) in the order they are
needed; ``/status`` is the plain status page (device, current book, counts) with a
button that captures one page. Vietnamese by default, English on request.
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import Any

from flask import (
    Flask,
    abort,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers.response import Response

from station.app.station import Station
from station.app.touch import TouchApi
from station.capture.drivers.camera.driver import MJPEG_MIMETYPE, CameraDriver, mjpeg_parts
from station.core import messages
from station.core.diskspace import is_disk_full
from station.core.errors import DiskFullError, StationBusyError, StationError
from station.core.fsutil import write_atomic
from station.core.printable import printable
from station.lan.admin import admin_blueprint as lan_admin_blueprint
from station.lan.api import API_PREFIX, api_blueprint, api_error_response
from station.ui import (
    admin_views,
    books_views,
    formats,
    gate,
    live,
    phone_views,
    review_views,
    scan_views,
    setup_views,
    shift_views,
    texts,
)
from station.ui.context import check_csrf as _check_csrf
from station.ui.context import csrf_token as _csrf_token
from station.ui.context import lang as _lang
from station.ui.context import station as _station
from station.ui.context import touch as _touch
from station.ui.context import wants_json
from station.ui.texts import ui_text
from station.ui.upload import chosen, is_loopback, take_uploads

log = logging.getLogger(__name__)

#: How long the plain status page's capture button waits for its page to be saved.
CAPTURE_WAIT_SECONDS = 120.0
#: Largest request body accepted anywhere but /upload (web.upload_max_mb there).
MAX_BODY = 1 * 1024 * 1024


def create_app(station: Station, test_config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app around a started :class:`Station`."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secret_key(station.data_dir),
        MAX_CONTENT_LENGTH=MAX_BODY,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
    )
    if test_config:
        app.config.update(test_config)
    app.extensions["station"] = station
    app.extensions["touch"] = TouchApi(station)
    app.extensions["lan"] = station.lan  # the entry PCs' API (station.lan.api)
    app.extensions["capture_lock"] = station.captures.lock  # the station's one capture lock
    live.install(app.extensions)
    texts.install(app)
    for views in (
        setup_views,
        shift_views,
        books_views,
        scan_views,
        review_views,
        admin_views,
        phone_views,
        live,
    ):
        app.register_blueprint(views.bp)
    app.register_blueprint(api_blueprint())  # /api/v1: entry PCs (docs/api.md)
    app.register_blueprint(lan_admin_blueprint(_check_csrf))  # pairing forms
    app.before_request(_guard)
    app.after_request(gate.lock_when_leaving)
    _register_routes(app)
    _register_errors(app)
    return app


def secret_key(data_dir: Path) -> bytes:
    """The key that signs the session cookies, made once per data folder and kept."""
    path = data_dir / "web.secret"
    if not path.exists():
        write_atomic(path, secrets.token_bytes(32))
        path.chmod(0o600)
    return path.read_bytes()


#: What another machine may reach without the admin PIN, whatever ``[web] host`` is:
#: the login itself, static files, the wizard (it admits only the station's own screen
#: until an admin PIN exists), the phone's own pages (its code or paired session is its
#: key), /upload (it says how to pair), and the entry PCs' API (its own tokens; its
#: public part is the station's description).
OPEN_ENDPOINTS = frozenset(
    {
        "static",
        "admin.login",
        "admin.enter",
        "upload",
        "phone.join",
        "phone.claim",
        "phone.state",
        "phone.mobile",
        "phone.upload",
    }
)
OPEN_BLUEPRINTS = frozenset({"api_v1", "setup"})


def _guard() -> Response | tuple[Any, int] | None:
    """Every other screen and action needs the station's own screen or an admin session."""
    endpoint = request.endpoint
    if endpoint is None or gate.local_or_admin():
        return None  # an unknown path is a 404 for everyone
    if endpoint in OPEN_ENDPOINTS or request.blueprint in OPEN_BLUEPRINTS:
        return None
    if not gate.admin_pin_set():
        return _error_response(403, "ui.gate_setup_local")
    if request.method == "GET" and not wants_json() and endpoint != "live.events":
        return redirect(url_for("admin.login", next=request.full_path))  # a screen
    return _error_response(403, "ui.admin_needed")


def _register_routes(app: Flask) -> None:
    @app.get("/")
    def home() -> Response:
        """The touch screens' start: wizard, shift, book or capture, whichever is due."""
        _lang()  # keeps a ?lang= choice
        return gate.required(need_book=True) or redirect(url_for("scan.main"))

    @app.get("/status")
    def index() -> str:
        lang = _lang()
        station = _station()
        failed = station.failed_pages()
        return render_template(
            "status.html",
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
            session["flash"] = ui_text("ui.no_book", lang)
            return redirect(url_for("index"))
        try:
            # The station's one capture at a time (screen, pedal and this page share it);
            # this form has no script, so it waits for the page to be saved.
            job = _touch().start_capture(1)
        except StationBusyError:
            session["flash"] = ui_text("ui.busy", lang)
            return redirect(url_for("index"))
        except StationError as exc:
            session["flash"] = exc.message(lang)
            return redirect(url_for("index"))
        job.wait(CAPTURE_WAIT_SECONDS)
        if job.error is not None:
            session["flash"] = job.error.message(lang)
        else:
            session["flash"] = ui_text("ui.captured", lang, count=job.pages_saved)
        return redirect(url_for("index"))

    @app.route("/upload", methods=["GET", "POST"])
    def upload() -> tuple[Any, int]:
        """Photos from a phone (for now only the station's own browser) into the open book."""
        if not is_loopback(request.remote_addr):
            # Other machines send pages as phones paired by QR code (phone_views).
            english = ui_text("ui.phone_upload_denied", "en")
            return render_template("upload_denied.html", lang="vi", english=english), 403
        lang = _lang()
        station = _station()
        limit_mb = station.config.web.upload_max_mb
        code, notice, results = 200, "", []
        if request.method == "POST":
            request.max_content_length = limit_mb * 1024 * 1024
            try:
                _check_csrf()  # reads the form, so an oversized body fails here
                files = chosen(request.files.getlist("photos"))
            except RequestEntityTooLarge:
                code, notice = 413, ui_text("ui.upload_too_big", lang, limit=limit_mb)
            else:
                if not files:
                    code, notice = 400, ui_text("ui.upload_none", lang)
                elif station.current_book is None:
                    code, notice = 409, ui_text("ui.no_book", lang)
                else:
                    results = take_uploads(station, files, lang, request.remote_addr or "")
                    saved = sum(1 for r in results if r.saved)
                    notice = ui_text("ui.captured", lang, count=saved)
        if request.accept_mimetypes.best == "application/json":
            body = {"notice": notice, "results": [r.to_dict() for r in results]}
            return jsonify(body), code
        page = render_template(
            "upload.html",
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
    def http_error(exc: HTTPException) -> tuple[Any, int, dict[str, str]]:
        if isinstance(exc, RequestEntityTooLarge):
            body, code = _too_large()
            return body, code, {}
        # A 405 names the methods the path allows (RFC 9110), in HTML, JSON and the API.
        allow = {k: v for k, v in exc.get_headers() if k.lower() == "allow"}
        body, code = _error_response(exc.code or 500, f"ui.http.{exc.code}", allow=allow)
        return body, code, allow

    @app.errorhandler(StationError)
    def station_error(exc: StationError) -> tuple[Any, int]:
        log.warning("request failed: %s", exc.message("en"))
        code = int(getattr(exc, "http_status", 400))
        return _error_response(code if 400 <= code <= 599 else 500, "", exc.message(_lang()))

    @app.errorhandler(Exception)
    def bug(exc: Exception) -> tuple[Any, int]:
        if is_disk_full(exc):  # no bug: the disk is full, and the operator is told so
            storage = _station().storage()
            return station_error(
                DiskFullError(free_mb=storage.free_mb, reserve_mb=storage.reserve_mb)
            )
        log.exception("unexpected error serving %s", printable(request.path))
        return _error_response(500, "ui.http.500")


def _too_large() -> tuple[Any, int]:
    """A body over the route's limit: said in the reader's words, with the limit."""
    limit = request.max_content_length or MAX_BODY
    lang = request.args.get("lang") or session.get("lang")
    lang = lang if lang in messages.LANGUAGES else "vi"
    size = formats.number(limit / (1024 * 1024), lang)
    return _error_response(413, "", messages.render("ui.http.413_limit", lang, limit=size))


def _error_response(
    code: int, key: str, text: str = "", allow: dict[str, str] | None = None
) -> tuple[Any, int]:
    if request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/"):
        return api_error_response(code, allow), code  # programs read the API: JSON, always
    lang = request.args.get("lang") or session.get("lang")
    lang = lang if lang in messages.LANGUAGES else "vi"
    if not text:
        text = messages.render(key if messages.known(key) else "ui.http.other", lang)
    if wants_json():
        return jsonify({"error": text, "status": code}), code
    return render_template("error.html", lang=lang, code=code, text=text), code
