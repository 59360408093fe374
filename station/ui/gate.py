"""Who may see which screen, and which screen comes first.

Order: the first-boot wizard (no admin PIN yet), then a shift, then a book. A touch
screen that needs what is not there yet sends the reader to the screen that provides
it (a JSON request gets a 409 saying what to do), so the kiosk can always start at
``/`` and end up in the right place.

Access (DESIGN.md, security model): the station's own screen (a loopback peer) needs
no password to scan; from any other machine every screen needs the admin PIN, typed
in that browser and used within the last :data:`ADMIN_MINUTES`. Before an admin PIN
exists only the station's own screen may run the wizard.

On the station's own screen the admin screens close as soon as the volunteer goes to
any other screen (:func:`lock_when_leaving`): the next person at the kiosk must not
find them open.
"""

from __future__ import annotations

import time
from typing import Any

from flask import jsonify, redirect, request, session, url_for
from werkzeug.wrappers.response import Response

from station.operators.shifts import LOCAL
from station.ui.context import lang, touch, wants_json
from station.ui.texts import ui_text
from station.ui.upload import is_loopback

#: How long the admin screens stay open without being used (each admin request
#: starts the time again).
ADMIN_MINUTES = 3
#: The screens that belong to the admin session: the admin screens and, once the
#: admin PIN is set, the first-boot wizard's later steps.
ADMIN_BLUEPRINTS = ("admin", "setup")


# -- the admin session -------------------------------------------------------------


def is_admin() -> bool:
    """Whether this browser session typed the admin PIN recently."""
    return float(session.get("admin_until", 0)) > time.time()


def grant_admin() -> None:
    """Open the admin screens, or keep them open: the idle time starts again."""
    session["admin_until"] = time.time() + ADMIN_MINUTES * 60


def revoke_admin() -> None:
    session.pop("admin_until", None)


def lock_when_leaving(response: Response) -> Response:
    """Close the admin screens when the station's own screen shows any other screen.

    An app's ``after_request``: a page (HTML, answered 200 to a GET) outside the admin
    screens and the wizard seen on the kiosk ends the admin session. Other machines
    keep theirs (they need the PIN for every screen), and scripts' JSON, images and
    events change nothing.
    """
    if (
        request.method == "GET"
        and response.status_code == 200
        and response.mimetype == "text/html"
        and request.blueprint not in ADMIN_BLUEPRINTS
        and "admin_until" in session
        and local()
    ):
        revoke_admin()
    return response


def local() -> bool:
    """Whether the request comes from the station's own screen."""
    return is_loopback(request.remote_addr)


def client() -> str:
    """Who is asking, for PIN lockouts: ``local`` for the station's own screen, else
    the peer's address (each LAN machine is locked out on its own)."""
    return LOCAL if local() else str(request.remote_addr or "?")


def local_or_admin() -> bool:
    """Whether the reader may see the screens: the station's own screen, or the PIN."""
    return local() or is_admin()


# -- the order of the screens ----------------------------------------------------------


def admin_pin_set() -> bool:
    """Whether the first-boot wizard has set an admin PIN."""
    return touch().admin_pin_set()


def current_shift() -> dict[str, Any] | None:
    """The shift in progress as plain data, or None."""
    shift = touch().current_shift()
    return None if shift is None else shift.to_dict()


def required(need_book: bool = False) -> Response | None:
    """Where to send a request for a touch screen, or None when it may go ahead."""
    if not admin_pin_set():
        return _send("setup.wizard", "gate_setup")
    if not local_or_admin():
        return _send("admin.login", "gate_admin", 403, next=request.full_path)
    if current_shift() is None:
        return _send("shift.start", "gate_shift")
    if need_book and touch().current_book is None:
        return _send("books.choose", "gate_book")
    return None


def _send(endpoint: str, key: str, status: int = 409, **values: Any) -> Response:
    target = url_for(endpoint, **values)
    if wants_json():
        response = jsonify({"error": ui_text("ui." + key, lang()), "status": status, "go": target})
        response.status_code = status
        return response
    return redirect(target)
