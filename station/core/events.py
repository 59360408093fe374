"""Live events for the touch UI: what changed, as it happens, for server-sent events.

:class:`EventBus` numbers every event with a station-wide, monotonically increasing
id and hands it to each :class:`Subscription`. Each subscriber has its own bounded
queue, so one slow or stalled browser never holds up the station or the others: when
a queue overflows, everything queued for that subscriber is dropped and a single
``resync`` event takes its place, telling the client to fetch the full state again
(the events it missed are stale by then anyway). The bus also keeps the last few
hundred events, so a browser that reconnects with ``Last-Event-ID`` is sent what it
missed, or a ``resync`` when that is no longer held.

Kinds published by the station (``data`` keys in brackets):

- ``device``: the capture device's state changed (kind, device, state, key, vi, en);
- ``capture``: a capture job's ``phase``: started, progress, page_saved, finished,
  failed (job_id, book, count, pages_saved, capture_id, key, vi, en, cancelled);
- ``page``: a capture was processed (capture_id, book, needs_review, entries, error);
- ``entry``: a file was published, replaced or withdrawn (kind, entry_id, book,
  number, version, file, seq);
- ``book``: a book's counts changed or another book was opened (book, counts, current);
- ``shift``: a shift started or ended (phase, shift);
- ``phones``: a phone asked to send photos, was confirmed, refused or revoked (none);
- ``storage``: free space after a capture (free_mb, reserve_mb, low);
- ``resync``: only ever sent to one subscriber, see above (dropped).

Publishing never raises and never blocks on a subscriber.
"""

from __future__ import annotations

import collections
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

log = logging.getLogger(__name__)

#: Events queued per subscriber before it is considered stalled.
QUEUE_SIZE = 256
#: Events kept for clients reconnecting with ``Last-Event-ID``.
HISTORY_SIZE = 512
RESYNC = "resync"


@dataclass(frozen=True)
class Event:
    """One thing that happened; ``id`` orders every event of the bus."""

    id: int
    kind: str
    data: dict[str, Any]
    at: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "data": self.data, "at": self.at}

    def to_sse(self) -> str:
        """The event in the ``text/event-stream`` format (``event:``, ``id:``, ``data:``)."""
        payload = json.dumps(self.data, ensure_ascii=False, separators=(",", ":"))
        return f"id: {self.id}\nevent: {self.kind}\ndata: {payload}\n\n"


class Subscription:
    """One subscriber's queue; read it with :meth:`get`, end it with :meth:`close`."""

    def __init__(self, bus: EventBus, size: int) -> None:
        self._bus = bus
        self._size = size
        self._queue: collections.deque[Event] = collections.deque()
        self._ready = threading.Condition()
        self._closed = False
        #: Events this subscriber lost to overflows, over its life.
        self.dropped = 0

    @property
    def closed(self) -> bool:
        """Whether the subscription (or the whole bus) was closed."""
        return self._closed

    def get(self, timeout: float | None = None) -> Event | None:
        """The next event, or None after ``timeout`` seconds or once closed."""
        with self._ready:
            if not self._queue and not self._closed:
                self._ready.wait(timeout)
            if self._queue and not self._closed:
                return self._queue.popleft()
            return None

    def close(self) -> None:
        """Stop receiving; a waiting :meth:`get` returns None at once."""
        self._bus._forget(self)
        with self._ready:
            self._closed = True
            self._queue.clear()
            self._ready.notify_all()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _put(self, event: Event) -> None:
        with self._ready:
            if self._closed:
                return
            if len(self._queue) >= self._size:
                self._overflow(event.id - 1)
            self._queue.append(event)
            self._ready.notify_all()

    def _overflow(self, last_id: int) -> None:
        lost = sum(1 for e in self._queue if e.kind != RESYNC)
        self.dropped += lost
        log.info("event subscriber too slow: %d events dropped, resync sent", lost)
        self._queue.clear()
        self._queue.append(Event(last_id, RESYNC, {"dropped": lost}))

    def _resync(self, last_id: int) -> None:
        with self._ready:
            self._queue.append(Event(last_id, RESYNC, {"dropped": 0}))
            self._ready.notify_all()


class EventBus:
    """Fan-out of numbered events to bounded subscriber queues (thread-safe)."""

    def __init__(self, queue_size: int = QUEUE_SIZE, history: int = HISTORY_SIZE) -> None:
        if queue_size < 2:
            raise ValueError("queue_size must be at least 2")
        self.queue_size = queue_size
        self._lock = threading.Lock()
        self._last_id = 0
        self._subscribers: list[Subscription] = []
        self._history: collections.deque[Event] = collections.deque(maxlen=history)
        self._closed = False

    @property
    def last_id(self) -> int:
        """The id of the newest event (0 before the first)."""
        return self._last_id

    def publish(self, kind: str, data: dict[str, Any]) -> Event:
        """Number ``data`` as the next event of ``kind`` and queue it for every subscriber."""
        with self._lock:  # held while queueing, so every queue is in id order
            self._last_id += 1
            event = Event(self._last_id, kind, data)
            self._history.append(event)
            for subscription in self._subscribers:
                subscription._put(event)
        return event

    def subscribe(self, last_id: int | None = None) -> Subscription:
        """A new subscription; with ``last_id`` (a reconnect), the events after it first.

        When the events after ``last_id`` are no longer held, the subscription starts
        with a ``resync`` event instead. A closed bus gives a closed subscription.
        """
        subscription = Subscription(self, self.queue_size)
        with self._lock:
            if self._closed:
                subscription._closed = True
                return subscription
            self._subscribers.append(subscription)
            if last_id is not None and last_id < self._last_id:
                missed = [e for e in self._history if e.id > last_id]
                held = bool(missed) and missed[0].id == last_id + 1
                if held and len(missed) <= self.queue_size:
                    for event in missed:
                        subscription._put(event)
                else:
                    subscription._resync(self._last_id)
        return subscription

    def subscribers(self) -> int:
        """How many subscriptions are open."""
        with self._lock:
            return len(self._subscribers)

    def close(self) -> None:
        """Close every subscription (the station is stopping); later ones start closed."""
        with self._lock:
            self._closed = True
            subscribers = list(self._subscribers)
        for subscription in subscribers:
            subscription.close()

    def _forget(self, subscription: Subscription) -> None:
        with self._lock:
            if subscription in self._subscribers:
                self._subscribers.remove(subscription)
