"""The station-wide change feed: every file published, replaced or withdrawn, in order.

Events live in segment files of ``segment_size`` events each (``000000.json``, ...),
each a small TinyDB, so an append rewrites one small file even with half a million
events. Event ``seq`` lives in segment ``(seq - 1) // segment_size``, so ``since()``
jumps straight to the right file. Sequence numbers are monotonic and never reused: the
last one is read back from the newest segment at open.
"""

from __future__ import annotations

import bisect
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.table import Document

from station.core.errors import CorruptDatabaseError, StoreError
from station.core.fsutil import write_atomic
from station.core.models import FeedEvent, FeedKind, utc_now
from station.store.storage import SafeJSONStorage

log = logging.getLogger(__name__)

#: 2,000 events of ~300 bytes keep each rewrite near 600 KB, cheap even on an SD card.
DEFAULT_SEGMENT_SIZE = 2000
#: Closed segments never change, so a few parsed ones stay in memory for collectors.
CACHED_SEGMENTS = 8
TABLE = "events"
META = "meta.json"


class Feed:
    """Append-only, segmented change feed under ``folder``."""

    def __init__(self, folder: Path, segment_size: int = DEFAULT_SEGMENT_SIZE) -> None:
        self.folder = folder
        self.segment_size = segment_size
        self._lock = threading.RLock()
        self._segments: list[int] = []
        self._cache: OrderedDict[int, list[FeedEvent]] = OrderedDict()
        self._last_seq = 0
        #: Called with every event appended one by one (not by :meth:`extend`), after
        #: it is durable; a listener must be quick and its errors are only logged.
        self.listeners: list[Callable[[FeedEvent], None]] = []
        self._open()

    def _open(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.segment_size = self._read_segment_size()
        self._segments = sorted(
            int(p.stem) for p in self.folder.glob("[0-9]*.json") if p.stem.isdigit()
        )
        for index in reversed(self._segments):
            events = self._segment(index)
            if events:
                self._last_seq = events[-1].seq
                break

    def _read_segment_size(self) -> int:
        # The size decides where each seq lives, so the one the feed was made with wins.
        meta = self.folder / META
        if not meta.exists():
            write_atomic(meta, json.dumps({"segment_size": self.segment_size}).encode())
            return self.segment_size
        try:
            size = int(json.loads(meta.read_bytes())["segment_size"])
        except (ValueError, KeyError, TypeError) as exc:
            raise CorruptDatabaseError(path=str(meta), detail=str(exc)) from exc
        if size != self.segment_size:
            log.info("feed %s keeps its segment size %d", self.folder, size)
        return size

    @property
    def last_seq(self) -> int:
        """The highest sequence number ever appended (0 for an empty feed)."""
        return self._last_seq

    def _path(self, index: int) -> Path:
        return self.folder / f"{index:06d}.json"

    def _segment(self, index: int) -> list[FeedEvent]:
        """The events of segment ``index`` in seq order (cached)."""
        cached = self._cache.get(index)
        if cached is not None:
            self._cache.move_to_end(index)
            return cached
        db = TinyDB(self._path(index), storage=SafeJSONStorage)
        try:
            docs = db.table(TABLE).all()
        finally:
            db.close()
        events = sorted((_event(doc, self._path(index)) for doc in docs), key=lambda e: e.seq)
        self._cache[index] = events
        self._trim_cache()
        return events

    def _trim_cache(self) -> None:
        while len(self._cache) > CACHED_SEGMENTS:
            self._cache.popitem(last=False)

    def append(
        self,
        kind: FeedKind,
        *,
        entry_id: str,
        book: str,
        number: str,
        version: int,
        file: str,
        sha256: str,
        size: int,
        at: str | None = None,
    ) -> FeedEvent:
        """Durably add one event numbered ``last_seq + 1`` and return it."""
        with self._lock:
            event = FeedEvent(
                self._last_seq + 1,
                kind,
                entry_id,
                book,
                number,
                version,
                file,
                sha256,
                size,
                at or utc_now(),
            )
            return self.append_event(event)

    def append_event(self, event: FeedEvent) -> FeedEvent:
        """Durably add an event that already carries its seq (publish, recovery).

        The seq must be above ``last_seq``: numbers are never reused or reordered.
        """
        with self._lock:
            if event.seq <= self._last_seq:
                raise StoreError(
                    path=str(self.folder),
                    detail=f"feed seq {event.seq} is not above {self._last_seq}",
                )
            index = (event.seq - 1) // self.segment_size
            events = self._segment(index) if index in self._segments else []
            db = TinyDB(self._path(index), storage=SafeJSONStorage)
            try:
                db.table(TABLE).insert(Document(event.to_dict(), doc_id=event.seq))
            finally:
                db.close()
            self._remember(index, [*events, event])
            log.debug(
                "feed %d %s %s v%d", event.seq, event.kind.value, event.entry_id, event.version
            )
            for listener in list(self.listeners):
                try:
                    listener(event)
                except Exception:  # a UI listener must never break publishing
                    log.exception("feed listener failed for seq %d", event.seq)
            return event

    def extend(self, events: list[FeedEvent]) -> None:
        """Add many events in seq order, writing each segment once (used by reindex)."""
        with self._lock:
            groups: dict[int, list[FeedEvent]] = {}
            previous = self._last_seq
            for event in events:
                if event.seq <= previous:
                    raise StoreError(
                        path=str(self.folder), detail=f"feed seq {event.seq} out of order"
                    )
                previous = event.seq
                groups.setdefault((event.seq - 1) // self.segment_size, []).append(event)
            for index, group in groups.items():
                existing = self._segment(index) if index in self._segments else []
                db = TinyDB(self._path(index), storage=SafeJSONStorage)
                try:
                    db.table(TABLE).insert_multiple(
                        Document(e.to_dict(), doc_id=e.seq) for e in group
                    )
                finally:
                    db.close()
                self._remember(index, [*existing, *group])

    def _remember(self, index: int, events: list[FeedEvent]) -> None:
        if index not in self._segments:
            bisect.insort(self._segments, index)
        self._cache[index] = events
        self._cache.move_to_end(index)
        self._trim_cache()
        self._last_seq = max(self._last_seq, events[-1].seq)

    def since(self, seq: int, limit: int = 1000) -> list[FeedEvent]:
        """Up to ``limit`` events with a sequence number above ``seq``, oldest first."""
        with self._lock:
            result: list[FeedEvent] = []
            start = bisect.bisect_left(self._segments, max(seq, 0) // self.segment_size)
            for index in self._segments[start:]:
                events = self._segment(index)
                first = bisect.bisect_right(events, seq, key=lambda e: e.seq)
                result.extend(events[first : first + limit - len(result)])
                if len(result) >= limit:
                    break
            return result

    def get(self, seq: int) -> FeedEvent | None:
        """The event numbered ``seq``, if the feed holds it."""
        if seq < 1:
            return None
        events = self.since(seq - 1, 1)
        return events[0] if events and events[0].seq == seq else None

    def all(self) -> list[FeedEvent]:
        """Every event, oldest first (for export and tests; not for the API)."""
        with self._lock:
            return [e for index in self._segments for e in self._segment(index)]


def _event(doc: dict[str, Any], path: Path) -> FeedEvent:
    try:
        return FeedEvent.from_dict(doc)
    except (KeyError, TypeError, ValueError) as exc:
        raise CorruptDatabaseError(path=str(path), detail=f"bad feed event: {exc}") from exc


def stored_segment_size(folder: Path) -> int | None:
    """The segment size an existing feed was made with, or None for no (readable) feed."""
    try:
        return int(json.loads((folder / META).read_bytes())["segment_size"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
