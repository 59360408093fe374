"""A flag in words: its name (``ui.flag_<name>``), what it found (``ui.flagdetail_<name>``
filled with the page's figures) and what to do (``ui.flag_help_<name>``).

The report, the batch console and the review screen all say a flag this way, so the
count a page expected and found, or the share of its ink outside every entry, reads the
same everywhere, in Vietnamese and in English.
"""

from __future__ import annotations

from collections.abc import Mapping

from station.core import messages

#: A flag's figures: flag -> field -> value (strings, as the catalogs' fields take them).
Details = Mapping[str, Mapping[str, str]]
#: Fields whose value is a list of names said through ``ui.outside_<name>``.
REASON_FIELDS = ("reason",)
#: Fields holding a decimal number written with a point ("1.2"): Vietnamese writes
#: a comma.
DECIMAL_FIELDS = ("share",)


def label(flag: str, lang: str, details: Details | None = None) -> str:
    """What the flag found when the page's figures are at hand (a whole sentence:
    "1,2% mực của trang nằm ngoài mọi mục: lề trang"), else its name."""
    detail = found(flag, lang, details)
    if detail:
        return detail
    key = "ui.flag_" + flag
    return messages.render(key, lang) if messages.known(key) else flag


def found(flag: str, lang: str, details: Details | None = None) -> str:
    """What the flag found, filled with the page's figures; "" when it has none."""
    values = dict((details or {}).get(flag, {}))
    key = "ui.flagdetail_" + flag
    if not values or not messages.known(key):
        return ""
    for field in REASON_FIELDS:
        if field in values:
            names = [n for n in values[field].split(",") if n]
            values[field] = ", ".join(_reason(n, lang) for n in names)
    if lang == "vi":
        for field in DECIMAL_FIELDS:
            if field in values:
                values[field] = values[field].replace(".", ",")
    return messages.render(key, lang, **values)


def help_text(flag: str, lang: str) -> str:
    """What to do about the flag; "" when the catalogs say nothing."""
    key = "ui.flag_help_" + flag
    return messages.render(key, lang) if messages.known(key) else ""


def both(flag: str, details: Details | None = None) -> dict[str, str]:
    """The flag with its words in both languages, for the report."""
    return {"flag": flag, **{lang: label(flag, lang, details) for lang in messages.LANGUAGES}}


def _reason(name: str, lang: str) -> str:
    key = "ui.outside_" + name
    return messages.render(key, lang) if messages.known(key) else name
