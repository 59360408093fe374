"""The LAN part of the touch UI: pairing requests, paired PCs and collection per book.

The status page includes ``lan_status.html``, which reads :func:`lan_view` through a
context processor. Approving, denying and revoking are forms with the UI's CSRF
token, allowed only from the station's own screen (loopback) until the admin PIN
exists (the touch UI issue); elsewhere they answer 403.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, current_app, redirect, request, session, url_for
from werkzeug.wrappers.response import Response

from station.core import messages
from station.lan.errors import LanError
from station.lan.interfaces import is_loopback
from station.lan.service import LanService
from station.lan.tls import grouped

log = logging.getLogger(__name__)


def admin_blueprint(check_csrf: Callable[[], None]) -> Blueprint:
    """Routes behind the status page's pairing forms; ``check_csrf`` is the UI's check."""
    bp = Blueprint("lan_admin", __name__)

    def decide(action: Callable[[LanService], tuple[str, dict[str, str]]]) -> Response:
        if not is_loopback(request.remote_addr):
            abort(403)
        check_csrf()
        lan: LanService = current_app.extensions["lan"]
        lang = _lang()
        try:
            key, values = action(lan)
            session["flash"] = messages.render(key, lang, **values)
        except LanError as exc:
            session["flash"] = exc.message(lang)
        return redirect(url_for("index"))

    @bp.post("/pairing/<request_id>/approve")
    def approve(request_id: str) -> Response:
        def act(lan: LanService) -> tuple[str, dict[str, str]]:
            done = lan.pairing.approve(request_id)
            return "lan.pairing_approved", {"name": done.name, "code": done.code}

        return decide(act)

    @bp.post("/pairing/<request_id>/deny")
    def deny(request_id: str) -> Response:
        def act(lan: LanService) -> tuple[str, dict[str, str]]:
            done = lan.pairing.deny(request_id)
            return "lan.pairing_denied", {"name": done.name}

        return decide(act)

    @bp.post("/collectors/<collector_id>/revoke")
    def revoke(collector_id: str) -> Response:
        def act(lan: LanService) -> tuple[str, dict[str, str]]:
            done = lan.pairing.revoke(collector_id)
            return "lan.collector_revoked", {"name": done.name}

        return decide(act)

    @bp.app_context_processor
    def lan_context() -> dict[str, Any]:
        return {"lan_view": lan_view}

    return bp


def lan_view() -> dict[str, Any]:
    """What the status page shows about the LAN (called from the template)."""
    lan: LanService = current_app.extensions["lan"]
    pairing = lan.pairing
    collectors = pairing.collectors()
    return {
        "status": lan.status(),
        "fingerprint": grouped(lan.fingerprint) if lan.fingerprint else "",
        "local": is_loopback(request.remote_addr),
        "pending": [
            {**r.public(), "minutes": max(1, round(pairing.expires_in(r) / 60))}
            for r in pairing.pending()
        ],
        "collectors": [
            {**c.public(), "last_seen": pairing.last_seen(c.id)[0] or "—"} for c in collectors
        ],
        "books": lan.collection(collectors),
    }


def _lang() -> str:
    lang = session.get("lang") or "vi"
    return lang if lang in messages.LANGUAGES else "vi"
