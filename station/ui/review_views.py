"""Reviewing one page: its cut lines and entry numbers, corrected by touch.

The screen's script edits the cuts (drag a line, add or remove a cut, renumber, flag)
and sends them as JSON; accepting and asking for a recapture are plain forms too, so
both work with one tap.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, redirect, request, url_for
from werkzeug.wrappers.response import Response

from station.core.errors import UsageError
from station.core.models import OPERATOR_FLAGS
from station.review.cuts import DUPLICATE_FLAG
from station.ui import gate, screens
from station.ui.context import check_csrf, json_payload, lang, touch, wants_json
from station.ui.scan_views import page_for_screen
from station.ui.texts import ui_text

bp = Blueprint("review", __name__)

#: Width of the page image on the review screen, in pixels.
REVIEW_WIDTH = 1600
#: Flags the operator sets on the review screen; a repeated number needs its flag.
EDITOR_FLAGS = (*OPERATOR_FLAGS, DUPLICATE_FLAG)


@bp.before_request
def _gate() -> Response | None:
    return gate.required()


def _view(key: str, capture_id: str) -> dict[str, Any]:
    page = touch().page_view(key, capture_id).to_dict()
    return page_for_screen(key, page, lang(), REVIEW_WIDTH)


@bp.get("/review/<key>/<capture_id>")
def page(key: str, capture_id: str) -> str:
    language = lang()
    view = _view(key, capture_id)
    flags = [(f, ui_text("ui.flag_" + f, language)) for f in EDITOR_FLAGS]
    return screens.render(
        "review.html", "review", "scan", fit=True, page=view, operator_flags=flags
    )


@bp.get("/api/ui/pages/<key>/<capture_id>")
def page_json(key: str, capture_id: str) -> Response:
    return jsonify(_view(key, capture_id))


@bp.post("/api/ui/pages/<key>/<capture_id>/cuts")
def save_cuts(key: str, capture_id: str) -> Response:
    """Re-cut the page with the operator's cuts (JSON ``{"cuts": [...], "accept": bool}``)."""
    check_csrf()
    data = json_payload()
    if not isinstance(data, dict) or not isinstance(data.get("cuts"), list):
        raise UsageError("review.bad_cuts", detail='a JSON object {"cuts": [...]} expected')
    operator = _operator()
    # The station checks every cut (boxes, numbers, flags, duplicates) itself.
    touch().review_page(key, capture_id, data["cuts"], operator)
    if data.get("accept"):
        touch().accept_page(key, capture_id, operator)
    return jsonify(_view(key, capture_id))


@bp.post("/api/ui/pages/<key>/<capture_id>/next")
def next_entry(key: str, capture_id: str) -> Response:
    """What the book's next entry number would become with the page numbered as sent
    (JSON ``{"numbers": [...]}``): the screen says it and asks before a change."""
    check_csrf()
    data = request.get_json(silent=True)
    numbers = data.get("numbers") if isinstance(data, dict) else None
    if not isinstance(numbers, list) or not all(isinstance(n, str) for n in numbers):
        raise UsageError("review.bad_cuts", detail='a JSON object {"numbers": [...]} expected')
    before, after = touch().next_entry_with(key, capture_id, numbers)
    language = lang()
    if before == after:
        text = ui_text("ui.renumber_next", language, next=after)
    else:
        # Entry numbers are names, not amounts: never written with a thousands dot.
        text = ui_text("ui.renumber_jump", language, next=after, before=before)
    return jsonify({"before": before, "after": after, "changes": before != after, "text": text})


@bp.post("/review/<key>/<capture_id>/accept")
def accept(key: str, capture_id: str) -> Response:
    check_csrf()
    touch().accept_page(key, capture_id, _operator())
    return _done(key, capture_id, "accepted")


@bp.post("/review/<key>/<capture_id>/recapture")
def recapture(key: str, capture_id: str) -> Response:
    check_csrf()
    touch().request_recapture(key, capture_id, _operator())
    return _done(key, capture_id, "recapture_requested")


def _done(key: str, capture_id: str, notice: str) -> Response:
    if wants_json():
        return jsonify(_view(key, capture_id))
    screens.flash(ui_text("ui." + notice, lang()))
    return redirect(request.form.get("next") or url_for("scan.main"))


def _operator() -> str:
    return str((gate.current_shift() or {}).get("operator_id", ""))
