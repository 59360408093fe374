"""The main screen: capture, with the device, the batch and the last page in view.

Steady state is one tap (or pedal press) per page: a confident page is accepted by
default (processing publishes it) and the screen only shows it, so the operator turns
the page and presses again. A page the station is unsure of says so and offers its
review; capturing goes on meanwhile.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, redirect, request, url_for
from werkzeug.wrappers.response import Response

from station.core import flagtext
from station.core.errors import UsageError
from station.review.frame import SCREEN_WIDTH
from station.review.overview import ATTENTION_FLAGS
from station.ui import gate, screens
from station.ui.context import check_csrf, lang, station, touch, wants_json
from station.ui.formats import number
from station.ui.texts import book_name, ui_label, ui_text

bp = Blueprint("scan", __name__)

#: Width of the last page's thumbnail on the main screen, in pixels (made by the
#: station as soon as the page is processed).
THUMB_WIDTH = SCREEN_WIDTH
#: Flags that draw an entry's box in the warning colour.
ATTENTION = sorted(ATTENTION_FLAGS | {"duplicate_number", "count_mismatch", "low_confidence"})


@bp.before_request
def _gate() -> Response | None:
    if request.endpoint in ("scan.page_image", "scan.saved_image"):
        # Only who may see the screens, but a page may be looked at in any order.
        return None if gate.local_or_admin() else gate.required()
    return gate.required(need_book=request.endpoint == "scan.main")


@bp.get("/scan")
def main() -> str:
    language = lang()
    return screens.render(
        "scan.html",
        "scan",
        fit=True,
        state=scan_state(language),
        preview=station().config.capture.device == "camera",
        feeder=has_feeder(),
    )


def has_feeder() -> bool:
    """Whether the device can take a stack of pages (the simulator's and a scanner's feeder)."""
    capture = station().config.capture
    return capture.device == "simulated" or (
        capture.device == "sane" and capture.options("sane").source != "flatbed"
    )


@bp.get("/api/ui/state")
def state() -> Response:
    """Everything the main screen shows, for its live refreshes."""
    return jsonify(scan_state(lang()))


@bp.post("/scan/capture")
def capture() -> Response:
    """Start capturing into the open book: one page, or the whole feeder (``count=all``)."""
    check_csrf()
    language = lang()
    running = station()
    if running.current_book is None:
        raise UsageError("capture.no_book")
    count = None if request.values.get("count") == "all" else 1
    touch().start_capture(count=count)  # recorded as the shift's operator
    if wants_json():
        return jsonify(scan_state(language))
    return redirect(url_for("scan.main"))


@bp.post("/device/connect")
def connect() -> Response:
    """Look for the capture device again (the banner's Connect button)."""
    check_csrf()
    station().check_device()
    if wants_json():
        return jsonify(scan_state(lang()))
    back = request.referrer or ""
    # Back to the screen the button was on, never to another site.
    if back.startswith(request.host_url):
        return redirect(back)
    return redirect(url_for("scan.main"))


@bp.post("/scan/cancel")
def cancel() -> Response:
    check_csrf()
    touch().cancel_capture()
    if wants_json():
        return jsonify(scan_state(lang()))
    return redirect(url_for("scan.main"))


def scan_state(language: str) -> dict[str, Any]:
    """The main screen's data: device, batch, book, last page, queue and messages."""
    running = station()
    book_key = running.current_book
    book = _book_summary(book_key, language) if book_key else None
    last = _last_page(book_key, language) if book_key else None
    capture = _capture_state(language)
    saved = _saved_page(book_key, capture, language) if book_key else None
    return {
        **screens.live_header(language),
        "book": book,
        "capture": capture,
        "last_page": last,
        "saved_page": saved,
        "queue": running.queue_length(),
        "operator": (gate.current_shift() or {}).get("operator_name", ""),
        "progress": _progress(language),
        "status_line": _status_line(language, capture, last, saved, running.current_book),
    }


def _progress(language: str) -> str:
    """Today's and this shift's entries, in one line."""
    figures = touch().progress()
    today = number(figures.get("today", 0), language)
    line = ui_text("ui.progress_line", language, today=today)
    if figures.get("shift") is not None:
        shift = number(figures["shift"], language)
        line += " · " + ui_text("ui.progress_shift", language, shift=shift)
    return str(line)


def _book_summary(key: str, language: str) -> dict[str, Any]:
    book = station().get_book(key)
    return {
        "key": key,
        "ref": str(book.ref),
        "name": book_name(book.ref, language),
        "profile": book.profile,
        "next_entry": book.next_entry,
        "expected": book.expected_entries,
        "overview": url_for("books.overview", key=key),
    }


def _capture_state(language: str) -> dict[str, Any]:
    """The capture now or the last one, with its error (if any) in the reader's words."""
    state = touch().capture_state()
    error = state.get("error")
    state["message"] = error.get(language, "") if error else ""
    return state


def _last_page(book_key: str, language: str) -> dict[str, Any] | None:
    page = touch().last_page(book_key)
    if page is None:
        return None
    return page_for_screen(book_key, page.to_dict(), language, THUMB_WIDTH)


def page_for_screen(
    book_key: str, page: dict[str, Any], language: str, width: int
) -> dict[str, Any]:
    """A page view with the URLs and words the screens need."""
    capture_id = page["capture_id"]
    status = page.get("status", "review")
    return {
        **page,
        "size": [page["width"], page["height"]],
        "attention_flags": ATTENTION,
        "book_key": book_key,
        "image": url_for("scan.page_image", key=book_key, capture_id=capture_id, w=width),
        "review": url_for("review.page", key=book_key, capture_id=capture_id),
        "status_label": ui_label("ui.page_" + status, language, status),
        "flag_labels": [ui_label("ui.flag_" + f, language, f) for f in page.get("flags", [])],
        "flag_help": flag_help(page.get("flags", []), language, page.get("flag_details")),
        "outside_lines": outside_lines(page.get("outside", []), language),
    }


def _saved_page(book_key: str, capture: dict[str, Any], language: str) -> dict[str, Any] | None:
    """The newest page of the last capture while it is saved but not yet processed (or
    when its processing failed): shown at once, its cut lines follow."""
    job = capture.get("job") or {}
    ids = job.get("capture_ids") or []
    if not ids or job.get("book") != book_key:
        return None
    newest = ids[-1]
    running = station()
    if running.store.get_page(book_key, newest) is not None:
        return None  # processed: the last page shows it with its cuts
    failed = {queued.capture.id: reason for queued, reason in running.failed_pages()}
    preview = running.saved_preview(newest)
    return {
        "capture_id": newest,
        "image": url_for("scan.saved_image", capture_id=newest) if preview else "",
        "size": list(preview.size) if preview else None,
        "failed": failed[newest].get(language, "") if newest in failed else "",
    }


def flag_help(
    flags: list[str], language: str, details: flagtext.Details | None = None
) -> list[dict[str, str]]:
    """Each flag with its name, what it found on this page (the counts expected and
    found, the share of ink outside every entry) and what to do."""
    return [
        {
            "flag": f,
            "label": flagtext.label(f, language, details),
            "help": flagtext.help_text(f, language),
        }
        for f in flags
    ]


def outside_lines(pieces: list[dict[str, Any]], language: str) -> list[str]:
    """Ink outside every entry, one line a reason with its share of the page's ink."""
    shares: dict[str, float] = {}
    for piece in pieces:
        shares[piece["reason"]] = shares.get(piece["reason"], 0.0) + float(piece["share"])
    return [
        ui_text(
            "ui.outside_line", language,
            reason=ui_label("ui.outside_" + reason, language, reason),
            share=number(100 * share, language, 1),
        )
        for reason, share in sorted(shares.items(), key=lambda item: -item[1])
    ]  # fmt: skip


def _status_line(
    language: str,
    capture: dict[str, Any],
    last: dict[str, Any] | None,
    saved: dict[str, Any] | None,
    book: str | None,
) -> str:
    """One sentence saying what is happening now."""
    if book is None:
        return ui_text("ui.gate_book", language)
    if saved is not None and saved["failed"]:
        return ui_text("ui.page_saved_failed", language, reason=saved["failed"])
    if capture.get("running"):
        saved, count = capture.get("pages_saved", 0), capture.get("count")
        if count:
            return ui_text("ui.capturing_n", language, saved=saved, count=count)
        return ui_text("ui.capturing_feeder", language, saved=saved)
    if capture.get("message"):
        return str(capture["message"])
    if station().device.state in ("offline", "error"):
        return ui_text("ui.device_not_ready", language)
    if saved is not None:
        return ui_text("ui.page_saved_cutting", language)
    if last is not None and last.get("status") == "review":
        return ui_text("ui.last_needs_review", language)
    if last is not None and capture.get("job") and capture["job"].get("state") == "finished":
        count = len(last.get("entries") or [])
        return ui_text("ui.page_saved_ready", language, count=count)
    return ui_text("ui.ready_next", language)


@bp.get("/scan/saved/<capture_id>.jpg")
def saved_image(capture_id: str) -> Response:
    """A page just saved, small, before it is processed (404 once no longer kept)."""
    preview = station().saved_preview(capture_id)
    if preview is None:
        abort(404)
    response = Response(preview.jpeg, mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, max-age=60"
    return response


@bp.get("/pages/<key>/<capture_id>.jpg")
def page_image(key: str, capture_id: str) -> Response:
    """The page as reviewed (JPEG), at most ``w`` pixels wide."""
    try:
        width = int(request.args.get("w", "1600"))
    except ValueError as exc:
        raise UsageError("ui.bad_value", name="w") from exc
    width = max(160, min(width, 4000))
    data = touch().page_image(key, capture_id, width)
    response = Response(data, mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, max-age=60"
    return response
