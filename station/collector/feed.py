"""Reading the station's change feed: pages of events, checked field by field.

Every field comes from the network. An event that is malformed makes the whole page a
protocol error (the station is broken or is not a station); an event that is well
formed but names a file the collector will not write (see
:func:`station.collector.paths.unsafe_reason`) only fails that one file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypeGuard

from station.collector.paths import safe_id
from station.core.models import FeedEvent, FeedKind

MAX_FILE_BYTES = 4 * 1024**3
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class FeedPage:
    """One answer of ``GET /feed``."""

    items: list[FeedEvent]
    last_seq: int
    more: bool


def parse_page(data: Any, since: int) -> FeedPage:
    """Check and convert a feed answer; :class:`ValueError` says what is wrong."""
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise ValueError("feed: no items list")
    last_seq, more = data.get("last_seq"), data.get("more", False)
    if not _is_int(last_seq) or last_seq < 0 or not isinstance(more, bool):
        raise ValueError("feed: bad last_seq or more")
    items = [parse_event(item) for item in data["items"]]
    previous = since
    for event in items:
        if event.seq <= previous:
            raise ValueError(f"feed: seq {event.seq} not above {previous}")
        previous = event.seq
    return FeedPage(items, last_seq, more)


def parse_event(item: Any) -> FeedEvent:
    """One feed item as a :class:`FeedEvent`, or :class:`ValueError`."""
    if not isinstance(item, dict):
        raise ValueError("feed item is not an object")
    seq, version, size = item.get("seq"), item.get("version"), item.get("bytes")
    if not _is_int(seq) or seq < 1 or not _is_int(version) or version < 1:
        raise ValueError(f"feed item: bad seq or version in {item!r:.200}")
    if not _is_int(size) or not 0 <= size <= MAX_FILE_BYTES:
        raise ValueError(f"feed item {seq}: bad size")
    texts = {
        key: item.get(key) for key in ("kind", "entry_id", "book", "number", "file", "sha256", "at")
    }
    if not all(isinstance(value, str) for value in texts.values()):
        raise ValueError(f"feed item {seq}: a text field is missing")
    if texts["kind"] not in {kind.value for kind in FeedKind}:
        raise ValueError(f"feed item {seq}: unknown kind {texts['kind']!r}")
    if not safe_id(str(texts["entry_id"])):
        raise ValueError(f"feed item {seq}: bad entry id")
    # A withdrawal names no file content, so its hash may be empty.
    withdrawn = texts["kind"] == FeedKind.WITHDRAWN.value and texts["sha256"] == ""
    if not withdrawn and not _SHA256.match(str(texts["sha256"])):
        raise ValueError(f"feed item {seq}: bad sha256")
    return FeedEvent(
        seq=seq,
        kind=FeedKind(texts["kind"]),
        entry_id=str(texts["entry_id"]),
        book=str(texts["book"]),
        number=str(texts["number"]),
        version=version,
        file=str(texts["file"]),
        sha256=str(texts["sha256"]),
        bytes=size,
        at=str(texts["at"]),
    )


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)
