"""API v1 for entry PCs, a Flask blueprint mounted at ``/api/v1`` (see docs/api.md).

Every answer is JSON, errors included (``{"error": code, "message": {...}}``), except
the files and exports themselves. Only ``/station`` and pairing are public; every
other endpoint needs ``Authorization: Bearer <token>`` and answers 401 without a
valid, unrevoked token, before looking at anything else in the request.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from flask import Blueprint, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers.response import Response

from station import __version__
from station.core import jsonbody, messages
from station.core.errors import StationError, StoreError
from station.core.jsonbody import JsonBodyError
from station.core.models import Entry
from station.core.printable import printable
from station.lan.acks import judge, parse_items
from station.lan.errors import LanError, bad_request, not_found
from station.lan.export import stream_zip
from station.lan.files import check_entry_id, file_response, open_version
from station.lan.pairing import PAIRING_SECRET_HEADER, REQUEST_TTL, Collector
from station.lan.rescans import clean_reason
from station.lan.service import LanService
from station.store import Store
from station.store.counts import book_counts

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
API_VERSION = 1
#: Largest JSON body (1,000 acknowledgements are about 150 KB).
MAX_JSON = 256 * 1024
#: A refused body up to this size is read (and dropped) before answering 413.
MAX_DRAIN = 4 * 1024 * 1024
FEED_LIMIT = 500
FEED_MAX = 1000
BOOK_KEY = re.compile(r"^[A-Z]{2,4}-[0-9]{4}-[0-9]{2,3}$")
#: Codes for HTTP errors raised by Flask or werkzeug rather than by us.
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method",
    413: "too_large",
    415: "not_json",
    416: "range",
}

P = ParamSpec("P")
R = TypeVar("R")


def api_blueprint() -> Blueprint:
    """The API's routes and error handlers (a new blueprint for each app)."""
    bp = Blueprint("api_v1", __name__, url_prefix=API_PREFIX)
    _public_routes(bp)
    _private_routes(bp)
    _file_routes(bp)
    bp.register_error_handler(HTTPException, _http_error)
    bp.register_error_handler(StationError, _station_error)
    bp.register_error_handler(Exception, _bug)
    bp.after_request(_no_store)
    return bp


def api_error_response(status: int, headers: dict[str, str] | None = None) -> Response:
    """A JSON error for ``status`` raised outside the blueprint (routing: 404, 405 with
    its ``Allow`` in ``headers``)."""
    return _error_json(_http_lan_error(status), headers)


# -- helpers ---------------------------------------------------------------------------


def _lan() -> LanService:
    lan: LanService = current_app.extensions["lan"]
    return lan


def private(view: Callable[P, R]) -> Callable[P, R]:
    """Refuse with 401 unless the request carries a valid token; sets ``g.collector``."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        collector = None
        if scheme.lower() == "bearer":
            collector = _lan().pairing.authenticate(token.strip())
        if collector is None:
            raise LanError(401, "unauthorized")
        _lan().pairing.saw(collector, request.remote_addr or "")
        g.collector = collector
        return view(*args, **kwargs)

    return wrapper


def _json_body() -> Any:
    """The request's JSON body (at most MAX_JSON bytes, Content-Type application/json)."""
    request.max_content_length = MAX_JSON
    if request.mimetype != "application/json":
        raise LanError(415, "not_json")
    raw = request.get_data(cache=False)  # raises 413 beyond the limit
    try:
        return jsonbody.loads(raw)
    except JsonBodyError as exc:  # malformed, too deep, a huge number: said in both languages
        raise LanError(400, "bad_request", exc.key, **exc.values) from None


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    text = request.args.get(name)
    if text is None:
        return default
    if not re.fullmatch(r"[0-9]{1,12}", text) or not low <= int(text) <= high:
        raise bad_request(f"'{name}' must be a whole number from {low} to {high}")
    return int(text)


def _collector() -> Collector:
    collector: Collector = g.collector
    return collector


# -- routes ----------------------------------------------------------------------------


def _public_routes(bp: Blueprint) -> None:
    @bp.get("/station")
    def station() -> Response:
        info = _lan().info
        return jsonify(
            id=info.id,
            name=info.name,
            office_code=info.office_code,
            office_name=info.office_name,
            api=API_VERSION,
            version=__version__,
            fingerprint=_lan().fingerprint,
        )

    @bp.post("/pair")
    def pair() -> tuple[Response, int]:
        body = _json_body()
        name = body.get("name") if isinstance(body, dict) else None
        made = _lan().pairing.request(name, request.remote_addr or "")
        answer = {
            "request_id": made.request.id,
            "code": made.request.code,
            "secret": made.secret,
            "expires_in": REQUEST_TTL,
        }
        return jsonify(answer), 202

    @bp.get("/pair/<request_id>")
    def pair_status(request_id: str) -> Response:
        secret = request.headers.get(PAIRING_SECRET_HEADER, "")
        return jsonify(_lan().pairing.poll(request_id, secret.strip()))


def _private_routes(bp: Blueprint) -> None:
    @bp.get("/books")
    @private
    def books() -> Response:
        store = _lan().store
        listed = []
        for book in store.list_books():
            counts = book_counts(store, book.ref.key)
            listed.append(
                {
                    "key": book.ref.key,
                    "ref": str(book.ref),
                    "type": book.ref.code,
                    "year": book.ref.year,
                    "book": book.ref.number,
                    "office": book.office_code,
                    "profile": book.profile,
                    "entries": counts.entries,
                    "published": counts.published,
                }
            )
        return jsonify(books=listed)

    @bp.get("/feed")
    @private
    def feed() -> Response:
        since = _int_arg("since", 0, 0, 10**12)
        limit = _int_arg("limit", FEED_LIMIT, 1, FEED_MAX)
        changes = _lan().store.feed
        items = changes.since(since, limit)
        last = changes.last_seq
        more = bool(items) and items[-1].seq < last
        return jsonify(items=[e.to_dict() for e in items], last_seq=last, more=more)

    @bp.post("/acks")
    @private
    def acks() -> Response:
        items = parse_items(_json_body())
        entries = _EntryLookup(_lan().store)
        accepted, rejected = 0, []
        groups: dict[str, list[Any]] = {}
        for item in items:
            entry = entries.get(item.entry_id)
            reason = judge(item, entry)
            if reason or entry is None:
                rejected.append(
                    {"entry_id": item.entry_id, "version": item.version, "reason": reason}
                )
                continue
            groups.setdefault(entry.book, []).append(item)
            accepted += 1
        for book, group in groups.items():
            _lan().acks.record(_collector().id, book, group)
        return jsonify(accepted=accepted, rejected=rejected)

    @bp.post("/rescans")
    @private
    def rescan() -> tuple[Response, int]:
        body = _json_body()
        if not isinstance(body, dict):
            raise bad_request("the body must be an object")
        entry_id = body.get("entry_id")
        if not isinstance(entry_id, str):
            raise bad_request("'entry_id' must be a text")
        reason = clean_reason(body.get("reason"))
        entry = _lan().store.find_entry(check_entry_id(entry_id))
        if entry is None:
            raise not_found("unknown_entry", entry=entry_id)
        collector = _collector()
        rescan_id = _lan().rescans.add(entry, reason, collector.id, collector.name)
        log.info(
            "rescan %s of %s asked by %s: %s",
            rescan_id,
            entry.id,
            printable(collector.name),
            printable(reason),
        )
        return jsonify(id=rescan_id), 201

    @bp.get("/rescans")
    @private
    def rescans() -> Response:
        return jsonify(rescans=_lan().rescans.all())


def _file_routes(bp: Blueprint) -> None:
    @bp.get("/entries/<entry_id>/versions/<int:version>/file")
    @private
    def entry_file(entry_id: str, version: int) -> Response:
        handle, found = open_version(_lan().store, entry_id, version, _lan().verifier)
        return file_response(request, handle, found)

    @bp.get("/books/<key>/export.zip")
    @private
    def export(key: str) -> Response:
        store = _lan().store
        if not BOOK_KEY.match(key):
            raise bad_request("malformed book key")
        if not store.has_book(key):
            raise not_found("unknown_book", book=key)
        book = store.get_book(key)
        response = Response(
            stream_zip(store, book, _lan().verifier),
            mimetype="application/zip",
            direct_passthrough=True,
        )
        response.headers.set("Content-Disposition", "attachment", filename=f"{key}.zip")
        response.headers["Cache-Control"] = "no-store"
        return response


class _EntryLookup:
    """Entries by id for one request: one book read serves all its entries."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.known: dict[str, Entry] = {}

    def get(self, entry_id: str) -> Entry | None:
        if entry_id in self.known:
            return self.known[entry_id]
        try:
            check_entry_id(entry_id)
        except LanError:
            return None
        entry = self.store.find_entry(entry_id)
        if entry is not None:
            self.known.update({e.id: e for e in self.store.list_entries(entry.book)})
        return entry


# -- errors ----------------------------------------------------------------------------


def _error_json(error: LanError, headers: dict[str, str] | None = None) -> Response:
    body = {
        "error": error.code,
        "message": {lang: error.message(lang) for lang in messages.LANGUAGES},
    }
    response = jsonify(body)
    response.status_code = error.status
    response.headers["Cache-Control"] = "no-store"
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="ledger-station"'
    if error.status == 429 and "seconds" in error.values:
        response.headers["Retry-After"] = str(error.values["seconds"])
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    if status == 416:
        length = getattr(exc, "length", None)
        error = LanError(416, "range", size=length if length is not None else "?")
        extra = {"Content-Range": f"bytes */{length}"} if length is not None else {}
        return _error_json(error, extra)
    if status == 413:
        _drain(request.content_length or 0)
        return _error_json(LanError(413, "too_large", limit=MAX_JSON))
    extra = {k: v for k, v in exc.get_headers() if k.lower() == "allow"}
    return _error_json(_http_lan_error(status), extra)


def _drain(length: int) -> None:
    """Read and drop a refused body of moderate size, so the client, still sending it,
    receives the 413 instead of a connection reset; a huge one is left (and the
    connection closed)."""
    if not 0 < length <= MAX_DRAIN:
        return
    stream = request.environ["wsgi.input"]
    while length > 0:
        block = stream.read(min(length, 64 * 1024))
        if not block:
            return
        length -= len(block)


def _http_lan_error(status: int) -> LanError:
    """Our error for an HTTP status that werkzeug raised (no details to tell)."""
    code = HTTP_CODES.get(status, "http")
    if code in {"not_found", "method", "unauthorized", "not_json"}:
        return LanError(status, code)
    return LanError(status, code, "lan.http", status=status)


def _station_error(exc: StationError) -> Response:
    if isinstance(exc, LanError):
        if exc.status >= 500:
            log.error("API %s %s: %s", request.method, printable(request.path), exc.message("en"))
        return _error_json(exc)
    if isinstance(exc, StoreError):  # the station's disk or database: not the caller's fault
        path = printable(request.path)
        log.error("API %s %s failed: %s", request.method, path, exc.message("en"))
        return _error_json(LanError(500, "internal"))
    log.warning("API %s %s refused: %s", request.method, printable(request.path), exc.message("en"))
    return _error_json(LanError(400, "bad_request", detail=exc.message("en")))


def _bug(exc: Exception) -> Response:
    log.exception("unexpected error serving %s %s", request.method, printable(request.path))
    return _error_json(LanError(500, "internal"))


def _no_store(response: Response) -> Response:
    response.headers.setdefault("Cache-Control", "no-store")
    return response
