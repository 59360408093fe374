"""User-facing messages, Vietnamese first, English second, from gettext catalogs.

The words live in ``station/locale/<lang>/LC_MESSAGES/messages.po`` (Vietnamese is the
source of truth, English beside it); the build compiles them to ``messages.mo``, which
the standard ``gettext`` module reads, so the collector on an entry PC needs nothing but
the standard library. A message id is the dotted key the code uses ("capture.no_book");
templates use ``str.format`` fields filled from an error's values.

In a source checkout a ``.po`` newer than its ``.mo`` (or one never compiled) is compiled
in memory with Babel, the build's own tool, so an edited catalog shows at once.
"""

from __future__ import annotations

import gettext
import io
import logging
from functools import cache
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

LANGUAGES = ("vi", "en")

#: Where the catalogs are: ``station/locale`` beside this package.
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"

DOMAIN = "messages"


def N_(key: str) -> str:
    """Mark a message key for extraction where it is not passed straight to a message call."""
    return key


def render(key: str, lang: str = "vi", /, **values: Any) -> str:
    """Fill the template for ``key`` in ``lang``; never fails, even on a bad key."""
    templates = _catalog(lang if lang in LANGUAGES else "vi")
    template = templates.get(key)
    if template is None:
        log.error("no message for key %r", key)
        detail = ", ".join(f"{name}={value}" for name, value in values.items())
        generic = templates.get("error.generic", "{detail}")
        return generic.format(detail=f"{key} ({detail})")
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        log.exception("message %r could not be filled with %r", key, values)
        return f"{template} {values}"


def known(key: str) -> bool:
    """Whether the catalogs hold a template for ``key``."""
    return key in _catalog("vi")


def texts(prefix: str, lang: str) -> dict[str, str]:
    """The unfilled templates whose keys start with ``prefix``, keyed without it.

    For the screens' scripts, which fill their own fields.
    """
    templates = _catalog(lang if lang in LANGUAGES else "vi")
    return {key[len(prefix) :]: text for key, text in templates.items() if key.startswith(prefix)}


def keys() -> frozenset[str]:
    """Every message id of the (Vietnamese) source-of-truth catalog."""
    return frozenset(_catalog("vi"))


@cache
def _catalog(lang: str) -> dict[str, str]:
    """The templates of one language: msgid to text, empty if no catalog can be read."""
    translations = _translations(LOCALE_DIR / lang / "LC_MESSAGES")
    if translations is None:
        log.error("no message catalog for %r under %s", lang, LOCALE_DIR)
        return {}
    # GNUTranslations keeps its table private; its public API only translates one id.
    table: dict[object, str] = getattr(translations, "_catalog", {})
    return {key: text for key, text in table.items() if isinstance(key, str) and key}


def _translations(folder: Path) -> gettext.GNUTranslations | None:
    po, mo = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    if po.exists() and (not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime):
        compiled = _compile(po)
        if compiled is not None:
            return gettext.GNUTranslations(io.BytesIO(compiled))
    if mo.exists():
        with mo.open("rb") as handle:
            return gettext.GNUTranslations(handle)
    return None


def _compile(po: Path) -> bytes | None:
    """The ``.mo`` bytes for a source catalog, or None where Babel is not installed."""
    try:
        # Babel is a build and development tool: an installed station or collector reads
        # the .mo files the build made and never gets here.
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po
    except ImportError:
        return None
    with po.open("rb") as handle:
        catalog = read_po(handle)
    out = io.BytesIO()
    write_mo(out, catalog)
    return out.getvalue()
