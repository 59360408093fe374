"""Acknowledgements: which version of which entry each collector has verified.

A collector acknowledges a file after checking its SHA-256, so an acknowledgement is
proof that the file arrived intact. They are kept per collector and per book
(``db/lan/acks/<collector>/<BOOK>.json``, read and written whole through
:class:`~station.store.storage.SafeJSONStorage`): a batch of acknowledgements costs
one small atomic write per book, and the status page counts a book from memory.
Only the newest version acknowledged of each entry is kept.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from station.core.models import Entry, utc_now
from station.lan.errors import bad_request
from station.store.counts import holds_current
from station.store.record import version_of
from station.store.storage import SafeJSONStorage

log = logging.getLogger(__name__)

TABLE = "acks"
MAX_ITEMS = 1000


@dataclass(frozen=True)
class AckItem:
    """One acknowledgement as sent: entry, version and the SHA-256 the collector saw."""

    entry_id: str
    version: int
    sha256: str

    @classmethod
    def parse(cls, value: Any) -> AckItem:
        if not isinstance(value, dict):
            raise bad_request("each item must be an object")
        entry_id, version, sha = value.get("entry_id"), value.get("version"), value.get("sha256")
        if not isinstance(entry_id, str) or not entry_id or len(entry_id) > 128:
            raise bad_request("'entry_id' must be a text")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise bad_request("'version' must be a whole number from 1")
        if not isinstance(sha, str) or len(sha) != 64:
            raise bad_request("'sha256' must be 64 hexadecimal digits")
        return cls(entry_id, version, sha.lower())


def parse_items(body: Any) -> list[AckItem]:
    """The items of a ``POST /acks`` body."""
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise bad_request("'items' must be a list")
    if len(items) > MAX_ITEMS:
        raise bad_request(f"at most {MAX_ITEMS} items per request")
    return [AckItem.parse(item) for item in items]


def judge(item: AckItem, entry: Entry | None) -> str:
    """Why an acknowledgement is refused ("" when it is accepted)."""
    if entry is None:
        return "unknown_entry"
    version = version_of(entry, item.version)
    if version is None:
        return "unknown_version"
    if version.sha256 != item.sha256:
        return "sha256_mismatch"
    return ""


class Acks:
    """The acknowledgement files under ``db/lan/acks``, cached in memory."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._cache: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def record(self, collector_id: str, book: str, items: list[AckItem]) -> None:
        """Keep ``items`` (all of ``book``) for ``collector_id``, in one write."""
        with self._lock:
            acks = dict(self._load(collector_id, book))
            changed = False
            for item in items:
                known = acks.get(item.entry_id)
                if known is not None and int(known["version"]) >= item.version:
                    continue
                acks[item.entry_id] = {"version": item.version, "sha256": item.sha256}
                acks[item.entry_id]["at"] = utc_now()
                changed = True
            if changed:
                SafeJSONStorage(self._path(collector_id, book)).write({TABLE: acks})
                self._cache[(collector_id, book)] = acks

    def of(self, collector_id: str, book: str) -> dict[str, dict[str, Any]]:
        """entry id -> {"version", "sha256", "at"} acknowledged by ``collector_id``."""
        with self._lock:
            return self._load(collector_id, book)

    def count_current(self, collector_id: str, book: str, entries: list[Entry]) -> int:
        """How many of ``entries`` the collector holds in their current version."""
        acks = self.of(collector_id, book)
        return sum(1 for entry in entries if holds_current(entry, acks.get(entry.id)))

    def held(self, collector_ids: list[str], book: str, entries: list[Entry]) -> set[str]:
        """Ids of ``entries`` that at least one of ``collector_ids`` holds in their
        current version."""
        found: set[str] = set()
        for collector_id in collector_ids:
            acks = self.of(collector_id, book)
            found |= {e.id for e in entries if holds_current(e, acks.get(e.id))}
        return found

    def _load(self, collector_id: str, book: str) -> dict[str, dict[str, Any]]:
        key = (collector_id, book)
        if key not in self._cache:
            data = SafeJSONStorage(self._path(collector_id, book)).read() or {}
            self._cache[key] = dict(data.get(TABLE, {}))
        return self._cache[key]

    def _path(self, collector_id: str, book: str) -> Path:
        return self.folder / collector_id / f"{book}.json"
