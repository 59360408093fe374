"""The web pages' words: the message catalogs (station/locale) seen from templates.

Templates call ``_("ui.title")`` or ``_("ui.captured", count=n)`` in the language of the
page (the ``lang`` it is rendered with), so ``pybabel extract`` finds every key they use.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app
from jinja2 import pass_context
from jinja2.runtime import Context

from station.core import messages
from station.core.errors import StationError
from station.core.layouts import load_profiles
from station.core.models import BookRef
from station.ui import formats

#: Ledger types offered when creating a book (DOMAIN.md); each is named by the message
#: ``ledger_type.<code>``.
LEDGER_TYPES: tuple[str, ...] = ("KS", "KH", "KT", "CMC", "HN", "GH")


def ui_text(key: str, lang: str, /, **values: Any) -> str:
    """One web page message, filled; the catalogs' own fallbacks apply."""
    return messages.render(key, lang, **values)


def script_texts(lang: str) -> dict[str, str]:
    """The unfilled ``ui.`` templates, keyed without the prefix, for the screens' scripts."""
    return messages.texts("ui.", lang)


@pass_context
def _gettext(context: Context, key: str, /, **values: Any) -> str:
    return messages.render(key, str(context.get("lang") or "vi"), **values)


@pass_context
def _number(context: Context, value: Any, decimals: int = 1) -> str:
    return formats.number(value, str(context.get("lang") or "vi"), decimals)


@pass_context
def _local_time(context: Context, value: Any) -> str:
    return formats.local_time(value, station_zone(), str(context.get("lang") or "vi"))


@pass_context
def _megabytes(context: Context, value: float) -> str:
    """A size in MB as people read it: "850 MB", "76,4 GB"."""
    language = str(context.get("lang") or "vi")
    if value >= 1024:
        return formats.number(value / 1024, language) + " GB"
    return formats.number(value, language, 0) + " MB"


def station_zone() -> str:
    """The running station's configured time zone (``station.timezone``)."""
    running = current_app.extensions.get("station")
    return str(running.config.station.timezone) if running is not None else "Asia/Ho_Chi_Minh"


def install(app: Flask) -> None:
    """Give the app's templates ``_`` (a message in the page's language), ``known``, and
    the filters ``num`` (12.345,5) and ``localtime`` (UTC to the station's zone)."""
    app.jinja_env.globals["_"] = _gettext
    app.jinja_env.globals["known"] = messages.known
    app.jinja_env.filters["num"] = _number
    app.jinja_env.filters["localtime"] = _local_time
    app.jinja_env.filters["mb"] = _megabytes
    app.jinja_env.filters["book_name"] = _book_name
    app.jinja_env.filters["profile_name"] = _profile_name


@pass_context
def _profile_name(context: Context, name: Any) -> str:
    return profile_name(str(name), str(context.get("lang") or "vi"))


def profile_name(name: str, lang: str) -> str:
    """A layout profile in words ("Hai trang, ..."), not its file name ("spread-2")."""
    profile = load_profiles().get(name)
    return profile.label(lang) if profile is not None else name


@pass_context
def _book_name(context: Context, value: Any) -> str:
    return book_name(value, str(context.get("lang") or "vi"))


def ui_label(key: str, lang: str, fallback: str) -> str:
    """The message ``key`` where the catalogs have one, else ``fallback`` (a raw name)."""
    return messages.render(key, lang) if messages.known(key) else fallback


def field_label(name: str, lang: str) -> str:
    """A form field's on-screen label from its internal name ("year": "Năm mở sổ")."""
    for key in ("ui.field_" + name, "ui.set_" + name.replace("__", "_").replace(".", "_")):
        if messages.known(key):
            return messages.render(key, lang)
    return name


def form_error(error: StationError, lang: str) -> str:
    """A station error for a form: the field it names (``name`` or ``key``) is named by
    its on-screen label, never by its internal name."""
    original = error.values
    error.values = {
        field: field_label(value, lang)
        if field in ("name", "key") and isinstance(value, str)
        else value
        for field, value in original.items()
    }
    try:  # the error's own message(), which a subclass may render its own way
        return error.message(lang)
    finally:
        error.values = original


def book_name(value: Any, lang: str) -> str:
    """A book in words, as its cover reads: "Sổ Khai sinh năm 2007, quyển số 1".

    ``value`` is a key ("KS-2007-01"), a reference ("KS/2007/01"), a :class:`BookRef` or a
    book's dict (``ref`` or ``key``); anything else is shown as it is.
    """
    ref: BookRef | None = value if isinstance(value, BookRef) else None
    try:
        if isinstance(value, dict) and "code" in value:
            ref = BookRef(str(value["code"]), int(value["year"]), int(value["number"]))
        elif isinstance(value, dict):
            inner = value.get("ref")
            ref = BookRef(**inner) if isinstance(inner, dict) else BookRef.parse(value["key"])
        elif isinstance(value, str):
            ref = BookRef.parse(value)
    except (StationError, KeyError, TypeError, ValueError):
        ref = None
    if ref is None:
        return "" if value is None else str(value)
    kind = ui_label("ledger_type." + ref.code, lang, ref.code)
    return messages.render("ui.book_name", lang, type=kind, year=ref.year, number=ref.number)
