"""Books: choose one, create one, or continue the last; the overview of a book's entries.

The overview is a grid of entry numbers coloured by state (done, missing, duplicated,
flagged, in review, rescan requested, collected); tapping one shows its PDF and offers
to capture its page again.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, redirect, request, send_file, url_for
from werkzeug.wrappers.response import Response

from station.core.errors import NotFoundError, StationError, UsageError
from station.core.layouts import load_profiles
from station.review.books import whole
from station.ui import gate, pdf_view, screens
from station.ui.context import check_csrf, lang, station, touch, wants_json
from station.ui.texts import LEDGER_TYPES, form_error, profile_name, ui_label, ui_text

bp = Blueprint("books", __name__)

#: States of the overview's cells, in the legend's order.
CELL_STATES = (
    "done",
    "review",
    "missing",
    "duplicated",
    "flagged",
    "rescan_requested",
    "collected",
)


@bp.before_request
def _gate() -> Response | None:
    return gate.required()


@bp.get("/books")
def choose() -> str:
    """The books, the open one first, with the one to continue offered on top."""
    books = touch().list_books()
    books.sort(key=lambda b: (not b.get("current"), not b.get("last_opened"), b["key"]))
    last = next((b for b in books if b.get("current") or b.get("last_opened")), None)
    return screens.render("books.html", "books", books=books, last=last)


@bp.get("/books/confirm")
def confirm() -> Response | str:
    """After signing in: the open book, named large as its cover reads, to be confirmed
    before anything is scanned into it (the last shift's book may not be on the
    scanner any more)."""
    key = touch().current_book
    if key is None:
        return redirect(url_for("books.choose"))
    book = station().get_book(key)
    counts = next((b for b in touch().list_books() if b["key"] == key), {})
    return screens.render(
        "book_confirm.html",
        "book_confirm",
        section="books",
        book=book.to_dict(),
        key=key,
        type_name=ui_label("ledger_type." + book.ref.code, lang(), book.ref.code),
        layout=profile_name(book.profile, lang()),
        entries=counts.get("entries", 0),
    )


@bp.post("/books/open")
def open_book() -> Response:
    check_csrf()
    key = request.form.get("key", "")
    station().open_book(key)
    return redirect(url_for("scan.main"))


@bp.get("/books/new")
def new() -> str:
    return _book_form({})


def _book_form(sent: Mapping[str, str], error: str = "") -> str:
    language = lang()
    profiles = [(p.name, p.label(language), p) for p in load_profiles().values()]
    values = {
        "code": LEDGER_TYPES[0],
        "year": "",  # never a silent guess: the operator types the year on the cover
        "book": "1",
        "office": station().info.office_code,
        "profile": station().config.processing.default_profile,
        "first_entry": "1",
        "expected": "",
        "code_other": "",
        **sent,
    }
    return screens.render(
        "book_new.html",
        "books",
        ledger_types=LEDGER_TYPES,
        profiles=profiles,
        values=values,
        error=error,
    )


@bp.post("/books/new")
def create() -> Response | tuple[str, int]:
    """Create the book and open it; the station checks every value and the form comes
    back with what to fix."""
    check_csrf()
    form = request.form
    code = (form.get("code_other") or form.get("code") or "").strip().upper()
    expected = form.get("expected", "").strip()
    try:
        touch().create_book(
            code,
            whole(form.get("year"), "year", 1800, 2200),
            whole(form.get("book"), "book", 1, 999),
            form.get("office"),
            form.get("profile") or None,
            whole(form.get("first_entry"), "first_entry", 1, 999_999),
            whole(expected, "expected", 1, 100_000) if expected else None,
        )
    except StationError as exc:
        if wants_json():
            raise
        return _book_form(form.to_dict(), form_error(exc, lang())), screens.status_of(exc)
    screens.flash(ui_text("ui.book_created", lang()))
    return redirect(url_for("scan.main"))


@bp.get("/overview")
def overview_current() -> Response:
    key = touch().current_book
    if key is None:
        return redirect(url_for("books.choose"))
    return redirect(url_for("books.overview", key=key))


@bp.get("/books/<key>/overview")
def overview(key: str) -> str:
    data = touch().book_overview(key)
    cells = data.get("cells", [])
    counts = data.get("counts", {})
    return screens.render(
        "overview.html",
        "overview",
        book=data,
        key=key,
        cells=cells,
        counts=counts,
        states=CELL_STATES,
    )


@bp.get("/entries/<entry_id>")
def entry(entry_id: str) -> str:
    found = station().find_entry(entry_id)
    if found is None:
        raise NotFoundError("ui.unknown_entry")
    capture_id = found.regions[0].capture_id if found.regions else ""
    return screens.render(
        "entry.html",
        "overview",
        entry=found.to_dict(),
        capture_id=capture_id,
        pdf=url_for("books.entry_pdf", entry_id=entry_id),
        viewer=url_for("books.entry_view", entry_id=entry_id),
        picture=url_for("books.entry_page", entry_id=entry_id, number=1),
    )


@bp.get("/entries/<entry_id>.pdf")
def entry_pdf(entry_id: str) -> Response:
    version = request.args.get("version")
    if version is not None and not version.isdigit():
        raise UsageError("ui.bad_value", name="version")
    path = touch().entry_pdf(entry_id, int(version) if version else None)
    return send_file(path, mimetype="application/pdf", download_name=path.name, max_age=0)


@bp.get("/entries/<entry_id>/view")
def entry_view(entry_id: str) -> str:
    """The entry's PDF inside the screens: one page as a picture, a big back button."""
    found = station().find_entry(entry_id)
    if found is None:
        raise NotFoundError("ui.unknown_entry")
    pages = pdf_view.page_count(touch().entry_pdf(entry_id))
    number = _page_number(request.args.get("page"), pages)
    return screens.render(
        "pdf_view.html",
        "pdf",
        section="overview",
        entry=found.to_dict(),
        page=number,
        pages=pages,
        picture=url_for("books.entry_page", entry_id=entry_id, number=number),
        back=url_for("books.entry", entry_id=entry_id),
    )


@bp.get("/entries/<entry_id>/page-<int:number>.png")
def entry_page(entry_id: str, number: int) -> Response:
    """One page of the entry's PDF rendered as a PNG (``?w=`` pixels wide)."""
    path = touch().entry_pdf(entry_id)
    if not 1 <= number <= pdf_view.page_count(path):
        raise NotFoundError("ui.unknown_entry")
    width = request.args.get("w", "1200")
    picture = pdf_view.render_page(path, number, int(width) if width.isdigit() else 1200)
    response = Response(picture, mimetype="image/png")
    response.headers["Cache-Control"] = "no-store"
    return response


def _page_number(text: str | None, pages: int) -> int:
    number = int(text) if text and text.isdigit() else 1
    return max(1, min(number, pages))


@bp.post("/entries/<entry_id>/recapture")
def recapture(entry_id: str) -> Response:
    """Ask for the entry's page to be captured again; the next capture replaces it."""
    check_csrf()
    found = station().find_entry(entry_id)
    if found is None or not found.regions:
        raise NotFoundError("ui.unknown_entry")
    touch().request_recapture(found.book, found.regions[0].capture_id, _operator())
    screens.flash(ui_text("ui.recapture_requested", lang()))
    return redirect(url_for("scan.main"))


def _operator() -> str:
    return str((gate.current_shift() or {}).get("operator_id", ""))
