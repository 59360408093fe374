"""The web pages' words: the message catalogs (station/locale) seen from templates.

Templates call ``_("ui.title")`` or ``_("ui.captured", count=n)`` in the language of the
page (the ``lang`` it is rendered with), so ``pybabel extract`` finds every key they use.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from jinja2 import pass_context
from jinja2.runtime import Context

from station.core import messages

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


def install(app: Flask) -> None:
    """Give the app's templates ``_`` (a message in the page's language) and ``known``."""
    app.jinja_env.globals["_"] = _gettext
    app.jinja_env.globals["known"] = messages.known


def ui_label(key: str, lang: str, fallback: str) -> str:
    """The message ``key`` where the catalogs have one, else ``fallback`` (a raw name)."""
    return messages.render(key, lang) if messages.known(key) else fallback
