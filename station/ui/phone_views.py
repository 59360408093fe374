"""Phones paired by QR code (station.app.phones): the touch screen's side and the phone's.

The touch screen (``/phone``, behind the same gate as every screen) shows a one-time
QR code holding the station's LAN address, the phones asking to send photos with a
code to compare, and the paired phones with a button to revoke each. Only the
station's own screen or an admin session answers a phone.

The phone opens the QR code's address (``/phone/j/<code>``, any address, no PIN): its
page spends the code (``/phone/claim``) and waits for the screen's answer; once
confirmed, ``/phone/m`` sends photos one per request into the open book, through the
same intake as every capture, recorded as ``phone:<name>`` and the shift's operator.
A phone's session is a random token in its (signed) session cookie whose hash the
station keeps, so revoking works at the phone's next request.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, jsonify, redirect, render_template, request, session, url_for
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers.response import Response

from station.app.phones import ACTIVE, CODE_TTL, PENDING, Phone, PhonePairing
from station.core.errors import AuthError, NotFoundError, StationError, UsageError
from station.core.messages import N_
from station.core.printable import printable
from station.ui import gate, screens
from station.ui.context import check_csrf, csrf_token, json_payload, lang, station
from station.ui.phone_link import qr_svg, station_base_url
from station.ui.texts import script_texts, ui_text
from station.ui.upload import chosen, take_uploads

log = logging.getLogger(__name__)

bp = Blueprint("phone", __name__)

#: The session key holding a phone's token.
TOKEN_KEY = "phone_token"
#: Words the phone's script shows (``ui.`` keys without the prefix).
PHONE_SCRIPT_TEXTS = (
    "phone_sending",
    "phone_saved",
    "phone_refused",
    "phone_retry",
    "phone_too_big",
    "phone_network",
    "phone_waiting",
    "phone_refused_by_station",
    "http.other",
)


def phones() -> PhonePairing:
    return station().phones


def _may_answer() -> None:
    """Only the station's own screen or an admin session answers phones."""
    if not gate.local_or_admin():
        raise AuthError("phone.answer_denied")


# -- the touch screen -----------------------------------------------------------------


@bp.get("/phone")
def screen() -> Response | str:
    """The QR code, the phones waiting for an answer, the paired phones."""
    refused = gate.required()
    if refused is not None:
        return refused
    language = lang()
    running = station()
    base = station_base_url(running.config)
    offer = phones().offer() if base else None
    url = f"{base}{url_for('phone.join', code=offer.code)}" if base and offer else ""
    return screens.render(
        "phone.html",
        "phone",
        section="scan",
        banner=None,  # a phone asking is shown here in full, with its buttons
        url=url,
        qr=qr_svg(url) if url else "",
        expires_in=CODE_TTL,
        web=running.config.web,
        book=running.current_book,
        pending=[_shown(p, language) for p in phones().pending()],
        paired=[_shown(p, language) for p in phones().paired()],
    )


@bp.post("/phone/<phone_id>/<action>")
def answer(phone_id: str, action: str) -> Response:
    """Confirm or refuse a waiting phone, or revoke a paired one."""
    _may_answer()
    check_csrf()
    acts = {
        "confirm": (phones().confirm, N_("ui.phone_confirmed")),
        "refuse": (phones().refuse, N_("ui.phone_refused_done")),
        "revoke": (phones().revoke, N_("ui.phone_revoked_done")),
    }
    if action not in acts:
        raise UsageError("ui.bad_value", name="action")
    act, done = acts[action]
    try:
        phone = act(phone_id[:40])
    except NotFoundError as exc:
        # Answered on another screen, or its time ran out while this one was open.
        screens.flash(exc.message(lang()))
    else:
        screens.flash(ui_text(done, lang(), name=phone.name))
    return redirect(url_for("phone.screen"))


def _shown(phone: Phone, language: str) -> dict[str, Any]:
    return {**phone.public(), "label": ui_text("ui.phone_name", language, name=phone.name)}


# -- the phone ------------------------------------------------------------------------


@bp.get("/phone/j/<code>")
def join(code: str) -> tuple[str, int] | Response:
    """The QR code's page: spend the code (by script) and wait for the screen's answer."""
    language = lang()
    current = phones().session(session.get(TOKEN_KEY, ""))
    if current is not None and current.status in (ACTIVE, PENDING):
        return redirect(url_for("phone.mobile"))
    try:
        phones().check_code(code[:64])
    except StationError as exc:
        return _mobile_page("ended", language, exc.message(language)), screens.status_of(exc)
    return _mobile_page("claim", language, code=code[:64]), 200


@bp.post("/phone/claim")
def claim() -> Response:
    """Spend a QR code: this browser's session waits for the screen's answer."""
    check_csrf()
    payload = json_payload()
    sent = payload.get("code") if isinstance(payload, dict) else request.form.get("code")
    code = str(sent or "")[:64]
    _phone, token = phones().claim(code, request.remote_addr or "")
    session[TOKEN_KEY] = token
    session.permanent = True  # a phone keeps its session when the browser closes
    return jsonify(_phone_state(token, lang()))


@bp.get("/phone/state.json")
def state() -> Response:
    """This browser's session: ``none``, ``pending``, ``active``, ``refused``,
    ``revoked`` or ``over``, with what to tell its owner."""
    return jsonify(_phone_state(session.get(TOKEN_KEY, ""), lang()))


@bp.get("/phone/m")
def mobile() -> tuple[str, int]:
    """The phone's page: waiting, sending photos, or why it may not."""
    language = lang()
    shown = _phone_state(session.get(TOKEN_KEY, ""), language)
    if shown["status"] == PENDING:
        return _mobile_page("wait", language, phone=shown), 200
    if shown["status"] != ACTIVE:
        return _mobile_page("ended", language, shown["message"]), 403
    return _mobile_page("upload", language), 200


@bp.post("/phone/upload")
def upload() -> tuple[Response, int]:
    """One photo from a confirmed phone into the open book (JSON: name, saved, message)."""
    language = lang()
    phone = phones().check(session.get(TOKEN_KEY, ""))  # 403 before any body is read
    running = station()
    limit_mb = running.config.web.upload_max_mb
    limit = limit_mb * 1024 * 1024
    request.max_content_length = limit
    too_big = ui_text("ui.phone_too_big", language, limit=limit_mb)
    if (request.content_length or 0) > limit:
        return _refused(too_big, 413)
    try:
        check_csrf()  # the header; the form only when it is missing
        files = chosen(request.files.getlist("photo"))
    except RequestEntityTooLarge:
        return _refused(too_big, 413)
    if len(files) != 1:
        return _refused(ui_text("ui.phone_one_photo", language), 400)
    if running.current_book is None:
        return _refused(ui_text("ui.no_book", language), 409)
    peer = request.remote_addr or ""
    result = take_uploads(running, files, language, peer, device=phone.device)[0]
    log.info(
        "phone %s sent %s (saved: %s)", printable(phone.name), printable(result.name), result.saved
    )
    return jsonify(result.to_dict()), 200 if result.saved else 422


def _refused(message: str, code: int) -> tuple[Response, int]:
    return jsonify({"saved": False, "message": message, "error": message, "status": code}), code


def _phone_state(token: str, language: str) -> dict[str, Any]:
    """What the phone's page shows of its session (status, code to compare, message)."""
    phone = phones().session(token)
    if phone is None:
        return {"status": "none", "message": ui_text("phone.not_paired", language)}
    shown = {"status": ACTIVE, "compare": phone.compare, "name": phone.name, "message": ""}
    try:
        phones().check(token)
    except AuthError as exc:
        status = "over" if exc.key == "phone.session_over" else phone.status
        message = "" if status == PENDING else exc.message(language)
        shown.update(status=status, message=message)
    return shown


def _mobile_page(view: str, language: str, message: str = "", **values: Any) -> str:
    running = station()
    templates = script_texts(language)  # unfilled: the script fills {limit}
    texts = {key: templates[key] for key in PHONE_SCRIPT_TEXTS}
    return render_template(
        "phone_mobile.html",
        lang=language,
        view=view,
        message=message,
        csrf=csrf_token(),
        book=running.current_book,
        limit_mb=running.config.web.upload_max_mb,
        texts=texts,
        **values,
    )
