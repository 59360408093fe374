"""A sliding-window rate limit per client (pairing requests per IP address)."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

#: Clients remembered at most; the oldest idle ones are forgotten first.
MAX_CLIENTS = 4096


class RateLimit:
    """At most ``limit`` hits per ``window`` seconds for each key."""

    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> int:
        """Count one hit for ``key``: 0 when allowed, else the seconds to wait."""
        now = self._clock()
        with self._lock:
            hits = self._hits.pop(key, None) or deque()
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            self._hits[key] = hits  # re-inserted: the dict keeps recent keys last
            if len(hits) >= self.limit:
                return max(1, math.ceil(hits[0] + self.window - now))
            hits.append(now)
            self._forget_oldest()
            return 0

    def _forget_oldest(self) -> None:
        while len(self._hits) > MAX_CLIENTS:
            del self._hits[next(iter(self._hits))]
