"""Rescan requests: an entry PC says an entry's file must be captured again, and why.

Kept in ``db/lan/rescans.json`` and shown per book on the status page; the operator
decides what to do (the request changes nothing by itself).
"""

from __future__ import annotations

import secrets
import unicodedata
from typing import Any

from station.core.models import Entry, utc_now
from station.lan.db import RESCANS, LanDB
from station.lan.errors import bad_request

MAX_REASON = 500


def clean_reason(value: Any) -> str:
    """A reason as given: 1-500 characters, line breaks allowed, no other controls."""
    if not isinstance(value, str):
        raise bad_request("'reason' must be a text")
    reason = unicodedata.normalize("NFC", value.strip())
    if not 1 <= len(reason) <= MAX_REASON:
        raise bad_request(f"'reason' must have 1 to {MAX_REASON} characters")
    if any(unicodedata.category(ch).startswith("C") and ch not in "\n\t" for ch in reason):
        raise bad_request("'reason' must not contain control characters")
    return reason


class Rescans:
    """The rescan requests of one station."""

    def __init__(self, db: LanDB) -> None:
        self.db = db

    def add(self, entry: Entry, reason: str, collector_id: str, collector_name: str) -> str:
        """Record a request for ``entry``; returns its id."""
        rescan_id = f"r-{secrets.token_hex(6)}"
        record = {
            "id": rescan_id,
            "entry_id": entry.id,
            "book": entry.book,
            "number": entry.number,
            "version": entry.current.version if entry.current else 0,
            "reason": reason,
            "collector_id": collector_id,
            "collector_name": collector_name,
            "at": utc_now(),
            "status": "open",
        }
        with self.db.session(RESCANS) as db:
            db.table("rescans").insert(record)
        return rescan_id

    def all(self) -> list[dict[str, Any]]:
        """Every request, oldest first."""
        docs = self.db.snapshot(RESCANS).get("rescans", {}).values()
        return sorted((dict(d) for d in docs), key=lambda r: (r["at"], r["id"]))

    def by_book(self) -> dict[str, list[dict[str, Any]]]:
        """Open requests grouped by book key."""
        grouped: dict[str, list[dict[str, Any]]] = {}
        for rescan in self.all():
            if rescan.get("status") == "open":
                grouped.setdefault(rescan["book"], []).append(rescan)
        return grouped
