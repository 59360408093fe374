"""Shifts: sign in with your name and PIN, see the progress, hand over to the next shift.

Scanning needs no password, but every page records who captured it, so a shift
starts by picking a name (or adding one) and typing that person's PIN on a big
keypad. The last shift's handover note is shown before anyone signs in.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, request, url_for
from werkzeug.wrappers.response import Response

from station.core.errors import NotFoundError, StationError, UsageError
from station.ui import gate, screens
from station.ui.context import check_csrf, lang, touch, wants_json
from station.ui.texts import form_error, ui_text

bp = Blueprint("shift", __name__)


@bp.before_request
def _gate() -> Response | None:
    if not gate.admin_pin_set():
        return redirect(url_for("setup.wizard"))
    if request.endpoint == "shift.progress":
        return gate.required()
    return None


def _operators() -> list[dict[str, Any]]:
    """Every operator (id, name), by name."""
    return [o.to_dict() for o in touch().list_operators()]


@bp.get("/shift")
def start() -> str:
    """Who is on shift now, the last handover note, and the names to pick from."""
    return screens.render(
        "shift.html",
        "shift",
        nav=gate.current_shift() is not None,
        operators=_operators(),
        shift=gate.current_shift(),
        handover=touch().last_handover(),
    )


@bp.get("/shift/pin/<operator_id>")
def pin(operator_id: str) -> str:
    return _pin_form(operator_id)


def _pin_form(operator_id: str, error: str = "") -> str:
    operator = next((o for o in _operators() if o.get("id") == operator_id), None)
    if operator is None:
        raise NotFoundError("ui.unknown_operator")
    return screens.render(
        "shift_pin.html",
        "shift",
        nav=gate.current_shift() is not None,
        operator=operator,
        error=error,
    )


@bp.post("/shift/start")
def begin() -> Response | tuple[str, int]:
    """Sign in with the PIN; a wrong one brings the keypad back with the reason."""
    check_csrf()
    operator_id = request.form.get("operator_id", "")
    try:
        shift = (
            touch().start_shift(operator_id, request.form.get("pin", ""), gate.client()).to_dict()
        )
    except StationError as exc:
        if wants_json() or isinstance(exc, NotFoundError):
            raise
        return _pin_form(operator_id, form_error(exc, lang())), screens.status_of(exc)
    screens.flash(ui_text("ui.shift_started", lang(), name=shift.get("operator_name", "")))
    return _after_sign_in()


def _after_sign_in() -> Response:
    """A new shift first checks the book left open: the wrong book is the costliest
    mistake of a night shift."""
    if touch().current_book is not None:
        return redirect(url_for("books.confirm"))
    return redirect(url_for("home"))


@bp.get("/shift/new")
def new() -> str:
    return _new_form()


def _new_form(name: str = "", error: str = "") -> str:
    return screens.render(
        "shift_new.html",
        "shift",
        nav=gate.current_shift() is not None,
        name=name,
        error=error,
    )


@bp.post("/shift/new")
def add() -> Response | tuple[str, int]:
    """Add a name with its PIN, then start that person's shift at once."""
    check_csrf()
    name = request.form.get("name", "")
    pin_value = request.form.get("pin", "")
    try:
        if request.form.get("pin2", "") != pin_value:
            raise UsageError("ui.pin_mismatch")
        operator = touch().add_operator(name, pin_value).to_dict()
        touch().start_shift(operator["id"], pin_value, gate.client())
    except StationError as exc:
        if wants_json():
            raise
        return _new_form(name, form_error(exc, lang())), screens.status_of(exc)
    screens.flash(ui_text("ui.shift_started", lang(), name=operator["name"]))
    return _after_sign_in()


@bp.get("/progress")
def progress() -> str:
    figures = touch().progress()
    return screens.render("progress.html", "progress", progress=figures, shift=gate.current_shift())


@bp.post("/shift/end")
def end() -> Response:
    """End the shift with a note for the next one."""
    check_csrf()
    touch().end_shift(request.form.get("note", ""))
    screens.flash(ui_text("ui.shift_ended", lang()))
    return redirect(url_for("shift.start"))
