"""What every view of the web app shares: the station, the language, CSRF and errors.

The views live in several blueprints; they reach the running station and the
request's language through these helpers instead of importing the app factory.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from flask import abort, current_app, request, session

from station.app.station import Station
from station.app.touch import TouchApi
from station.core import jsonbody, messages

#: Header a script sends its CSRF token in (forms send the ``csrf`` field).
CSRF_HEADER = "X-CSRF-Token"


def station() -> Station:
    """The running station of this app."""
    running: Station = current_app.extensions["station"]
    return running


def touch() -> TouchApi:
    """The touch screens' operations on the running station."""
    api: TouchApi = current_app.extensions["touch"]
    return api


def lang() -> str:
    """The reader's language: ``?lang=``, then the session, then Vietnamese."""
    chosen = request.args.get("lang") or session.get("lang") or "vi"
    if chosen not in messages.LANGUAGES:
        chosen = "vi"
    # Written only when it changes: the session is a cookie each answer that sets it
    # replaces whole, so a page's background request sent before the reader switched
    # language and answered after would put the old language back.
    if session.get("lang") != chosen:
        session["lang"] = chosen
    return str(chosen)


def csrf_token() -> str:
    """This session's CSRF token (made on first use)."""
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        session["csrf"] = token
    return str(token)


def check_csrf() -> None:
    """Refuse (400) a state-changing request without this session's token."""
    sent = request.headers.get(CSRF_HEADER) or request.form.get("csrf", "")
    expected = session.get("csrf", "")
    if not expected or not hmac.compare_digest(str(sent), str(expected)):
        abort(400, description="csrf")


def json_payload() -> Any:
    """The request's JSON body, or None when it is not JSON (a form, say); a malformed,
    too deeply nested or huge-numbered body raises ``JsonBodyError`` (400)."""
    if not request.is_json:
        return None
    return jsonbody.loads(request.get_data(cache=True))


def wants_json() -> bool:
    """Whether the answer should be JSON (an API path, a .json path or the Accept header)."""
    path = request.path
    if path.startswith("/api/") or path.endswith(".json"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"
