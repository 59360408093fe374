"""Numbers and times as the reader writes them: one filter each, used by every screen.

Vietnamese writes 12.345,5 (thousands with ".", decimals with ","); English 12,345.5.
A whole number never shows ".0". Times are stored in UTC and shown in the station's
configured time zone (``station.timezone``), never in UTC.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from typing import Any

log = logging.getLogger(__name__)

#: (thousands, decimal) separators per language.
SEPARATORS = {"vi": (".", ","), "en": (",", ".")}
#: How a date and time are written per language.
TIME_FORMATS = {"vi": "%H:%M %d/%m/%Y", "en": "%Y-%m-%d %H:%M"}


def number(value: Any, lang: str, decimals: int = 1) -> str:
    """``value`` with the language's separators, at most ``decimals`` places, no ".0"."""
    if value is None or isinstance(value, bool):
        return "—" if value is None else str(value)
    try:
        amount = round(float(value), decimals)
    except (TypeError, ValueError):
        return str(value)
    thousands, point = SEPARATORS.get(lang, SEPARATORS["vi"])
    text = f"{amount:,.{decimals}f}" if decimals else f"{amount:,.0f}"
    if decimals:
        text = text.rstrip("0").rstrip(".")
    return text.replace(",", "\0").replace(".", point).replace("\0", thousands)


def local_time(value: Any, zone: str, lang: str) -> str:
    """An ISO 8601 time (UTC when it names no zone) in ``zone``, as the reader writes it."""
    if not value:
        return ""
    try:
        when = value if isinstance(value, dt.datetime) else parse_iso(str(value))
    except ValueError:
        return str(value)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    try:
        here = when.astimezone(zoneinfo.ZoneInfo(zone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        log.warning("unknown time zone %r; times shown in the system's zone", zone)
        here = when.astimezone()
    return here.strftime(TIME_FORMATS.get(lang, TIME_FORMATS["vi"]))


def parse_iso(text: str) -> dt.datetime:
    """A datetime from ISO 8601 text, a trailing "Z" included."""
    text = text.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    return dt.datetime.fromisoformat(text)
