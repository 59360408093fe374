"""Shift and campaign progress: entries per hour, today, this shift, book and station.

Counted from the change feed, the station's own record of every file published or
withdrawn: an entry counts once, when its first version is published (a replacement is
not new work done twice), and a withdrawal takes it off the totals. The feed is read
once from the start, then only from where the last call stopped, so asking every few
seconds costs next to nothing even with hundreds of thousands of entries.
"""

from __future__ import annotations

import bisect
import datetime as dt
import logging
import threading
import time
from array import array
from collections import Counter
from typing import Any

from station.core.models import FeedKind
from station.store import Store

log = logging.getLogger(__name__)

HOUR = 3600.0
BATCH = 5000


def _epoch(iso: str) -> float:
    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


class Progress:
    """Counts of entries done, kept up to date from the feed (thread-safe)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._seq = 0
        self._times = array("d")  # first publications, in feed order (≈ time order)
        self._books: Counter[str] = Counter()  # live entries per book
        self._withdrawn: set[str] = set()

    def snapshot(
        self,
        *,
        shift_started: str | None = None,
        book: str | None = None,
        now: float | None = None,
    ) -> dict[str, Any]:
        """Entries per hour (last hour, shift average), today, shift, book, station."""
        with self._lock:
            self._catch_up()
            now = time.time() if now is None else now
            midnight = dt.datetime.fromtimestamp(now).replace(
                hour=0, minute=0, second=0, microsecond=0
            )
            last_hour = self._since(now - HOUR)
            today = self._since(midnight.timestamp())
            shift = None
            average = None
            if shift_started:
                start = _epoch(shift_started)
                shift = self._since(start)
                hours = max((now - start) / HOUR, 0.25)  # a fresh shift's rate is noise
                average = round(shift / hours, 1)
            return {
                "per_hour": {"last_hour": last_hour, "shift_average": average},
                "today": today,
                "shift": shift,
                "book": None if book is None else {"key": book, "entries": self._books[book]},
                "station": {
                    "entries": sum(self._books.values()),
                    "books": sum(1 for n in self._books.values() if n),
                },
                "feed_seq": self._seq,
            }

    def _since(self, start: float) -> int:
        # Feed order is time order up to clock steps; a sorted copy is not worth it.
        index = bisect.bisect_left(self._times, start)
        return len(self._times) - index

    def _catch_up(self) -> None:
        while True:
            events = self.store.feed.since(self._seq, BATCH)
            if not events:
                return
            for event in events:
                if event.kind is FeedKind.PUBLISHED:
                    self._times.append(_epoch(event.at))
                    self._books[event.book] += 1
                elif event.kind is FeedKind.WITHDRAWN and event.entry_id not in self._withdrawn:
                    self._withdrawn.add(event.entry_id)
                    self._books[event.book] -= 1
            self._seq = events[-1].seq
