"""The LAN service's errors: each carries the HTTP status and a stable code for programs."""

from __future__ import annotations

from typing import Any

from station.core.errors import StationError


class LanError(StationError):
    """A refusal of the LAN service: shown to a person, or sent to a collector as JSON.

    ``code`` is the stable, machine-readable part of the JSON answer (``"error"``);
    ``status`` is the HTTP status of that answer.
    """

    exit_code = 64  # EX_USAGE: on the command line these are wrong ids or names

    def __init__(self, status: int, code: str, key: str | None = None, /, **values: Any) -> None:
        self.status = status
        self.code = code
        super().__init__(key or f"lan.{code}", **values)


def bad_request(detail: str) -> LanError:
    """A 400 naming what is wrong with the request."""
    return LanError(400, "bad_request", detail=detail)


def not_found(code: str, **values: Any) -> LanError:
    """A 404 for an unknown entry, version, book, request or collector."""
    return LanError(404, code, **values)
