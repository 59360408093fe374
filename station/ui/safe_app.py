"""The web app of a station in safe mode (:mod:`station.app.safe_mode`).

Every screen shows the configuration's problems and the form that fixes them, so the
kiosk's touch screen lands there whatever page it was on; ``/status`` and
``/status.json`` say the same; a capture or an entry PC's request is refused with 503
and the reason. Once a fix makes the configuration valid, ``on_fixed`` is called: the
server stops and the station starts as usual.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, jsonify, make_response, redirect, render_template, request
from werkzeug.wrappers.response import Response

from station.app.safe_mode import SafeMode
from station.core import messages
from station.core.errors import ConfigError, LockedOutError, StationError
from station.lan.interfaces import is_loopback
from station.ui import texts
from station.ui.app import MAX_BODY, secret_key
from station.ui.context import check_csrf, csrf_token, lang

log = logging.getLogger(__name__)

#: Status of every answer that is not the safe-mode screen itself.
UNAVAILABLE = 503


def create_safe_app(safe: SafeMode, on_fixed: Callable[[], None]) -> Flask:
    """The safe-mode app around ``safe``; ``on_fixed`` runs once the file is valid."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secret_key(safe.data_dir),
        MAX_CONTENT_LENGTH=MAX_BODY,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
    )
    texts.install(app)

    @app.get("/")
    @app.get("/status")
    def screen() -> tuple[str, int]:
        return _screen(safe), 200

    @app.get("/status.json")
    def status_json() -> Response:
        return jsonify(safe.status())

    @app.post("/safe/fix")
    def fix() -> tuple[str, int] | Response:
        check_csrf()
        refused = _refusal(safe)
        if refused:
            return _screen(safe, error=refused), 403
        values = {
            key.removeprefix("value:"): text
            for key, text in request.form.items()
            if key.startswith("value:")
        }
        defaults = {
            key.removeprefix("default:") for key in request.form if key.startswith("default:")
        }
        try:
            safe.fix(values, defaults)
        except ConfigError as exc:
            return _screen(safe, error=exc.message(lang())), 400
        except StationError as exc:
            return _screen(safe, error=exc.message(lang())), exc.http_status
        return _restarting(_screen(safe, notice=messages.render("safe.fixed", lang())), on_fixed)

    @app.post("/safe/set-aside")
    def set_aside() -> tuple[str, int] | Response:
        check_csrf()
        refused = _refusal(safe)
        if refused:
            return _screen(safe, error=refused), 403
        kept = safe.set_aside()
        if kept is None:
            notice = messages.render("safe.created", lang(), path=safe.path)
        else:
            notice = messages.render("safe.set_aside", lang(), kept=kept)
        return _restarting(_screen(safe, notice=notice), on_fixed)

    @app.errorhandler(404)
    @app.errorhandler(405)
    def elsewhere(error: Exception) -> Response | tuple[Response, int]:
        """Any other page: the screen goes back to safe mode; machines get 503."""
        if request.method == "GET" and not request.path.startswith("/api/"):
            return redirect("/")
        text = messages.render("safe.no_capture", lang())
        return jsonify({"error": "safe_mode", "message": text}), UNAVAILABLE

    return app


def _restarting(page: str, on_fixed: Callable[[], None]) -> Response:
    """The page saying the station restarts; ``on_fixed`` runs once it has been sent."""
    response = make_response(page, 200)
    response.call_on_close(on_fixed)
    return response


def _refusal(safe: SafeMode) -> str:
    """Why this request may not fix anything ("" when it may)."""
    language = lang()
    if not safe.pin_required():
        if is_loopback(request.remote_addr):
            return ""
        return messages.render("safe.local_only", language)
    try:
        client = "local" if is_loopback(request.remote_addr) else str(request.remote_addr)
        if safe.check_pin(request.form.get("pin", ""), client):
            return ""
    except LockedOutError as exc:
        return exc.message(language)
    return messages.render("ui.admin_wrong_pin", language)


def _screen(safe: SafeMode, error: str = "", notice: str = "") -> str:
    language = lang()
    other = "en" if language == "vi" else "vi"
    return render_template(
        "safe_mode.html",
        lang=language,
        other_lang=other,
        issues=safe.issues(),
        config_file=str(safe.path),
        pin_required=safe.pin_required(),
        fixed=safe.fixed is not None,
        error=error,
        notice=notice,
        csrf=csrf_token(),
    )
