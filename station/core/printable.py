"""Client-given text made safe to log: control characters shown escaped.

A file name, a phone's name or a URL path comes from someone else. Logged as is, a
newline in it forges a log line of its own and a terminal escape rewrites the screen,
so every such text is logged through :func:`printable`.
"""

from __future__ import annotations

import unicodedata

#: Categories shown escaped: controls, format characters (bidi overrides), separators
#: that break lines, and surrogates (undecodable bytes in a file name).
ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def has_control(text: str) -> bool:
    """Whether ``text`` holds a character :func:`printable` would escape."""
    return any(unicodedata.category(ch) in ESCAPED_CATEGORIES for ch in text)


def printable(text: object) -> str:
    """``text`` on one line: each escaped character as ``\\xNN``, ``\\uNNNN`` or ``\\UNNNNNNNN``."""
    value = str(text)
    if not has_control(value):
        return value
    return "".join(
        _escape(ch) if unicodedata.category(ch) in ESCAPED_CATEGORIES else ch for ch in value
    )


def _escape(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"
