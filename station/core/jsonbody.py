"""Reading a JSON body from the network without letting its shape hurt the station.

``json.loads`` alone turns hostile bodies into server errors: ``[[[[...`` nested
deeper than the interpreter's recursion limit raises ``RecursionError``, and an
integer of more than 4,300 digits raises ``ValueError`` from ``int`` (after a
quadratic conversion, before Python 3.11's limit). :func:`loads` bounds both, refuses
``NaN`` and ``Infinity`` (not JSON), and says what was wrong in a
:class:`JsonBodyError`, a 400 for the web layers. Every JSON body the station parses
(the LAN API and the touch UI's JSON endpoints) goes through it.
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

from station.core.errors import StationError
from station.core.messages import N_

#: Nesting of arrays and objects allowed (the deepest body the station reads has 4).
MAX_DEPTH = 32
#: Characters in one number (a float's 17 significant digits, sign and exponent fit).
MAX_NUMBER = 40


class JsonBodyError(StationError):
    """A request's JSON body is malformed, too deeply nested or holds a huge number."""

    default_key = N_("json.invalid")
    http_status = 400


def loads(raw: bytes | str) -> Any:
    """Decode a JSON body, within MAX_DEPTH and MAX_NUMBER; raises :class:`JsonBodyError`."""
    try:
        value = json.loads(
            raw,
            parse_int=_integer,
            parse_float=_float,
            parse_constant=_constant,
        )
    except RecursionError:
        raise JsonBodyError(N_("json.too_deep"), limit=MAX_DEPTH) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise JsonBodyError(N_("json.invalid"), detail=str(exc)) from None
    if _depth(value) > MAX_DEPTH:
        raise JsonBodyError(N_("json.too_deep"), limit=MAX_DEPTH)
    return value


def _integer(text: str) -> int:
    _check_number(text)
    return int(text)


def _float(text: str) -> float:
    _check_number(text)
    return float(text)


def _check_number(text: str) -> None:
    if len(text) > MAX_NUMBER:
        raise JsonBodyError(N_("json.number_too_long"), limit=MAX_NUMBER)


def _constant(text: str) -> NoReturn:
    raise JsonBodyError(N_("json.invalid"), detail=f"{text} is not a JSON number")


def _depth(value: Any) -> int:
    """How deeply arrays and objects nest in ``value`` (iterative: no recursion)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level + 1)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest
