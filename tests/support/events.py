"""Waiting on a station's live events.

The capture thread and the processing worker publish side by side, so a test waits
until every event it asserts on has arrived, never for one to come before another.
"""

from __future__ import annotations

from collections.abc import Callable

from station.core.events import Event, Subscription

#: Seconds without any event before a wait fails.
QUIET_SECONDS = 60.0


def is_event(event: Event, kind: str, phase: str | None = None) -> bool:
    """Whether ``event`` is of ``kind`` (and ``phase``)."""
    return event.kind == kind and (phase is None or event.data.get("phase") == phase)


def collect_until(events: Subscription, done: Callable[[list[Event]], bool]) -> list[Event]:
    """Every event until ``done(seen)`` holds, in arrival order; fails after a quiet minute."""
    seen: list[Event] = []
    while not seen or not done(seen):
        event = events.get(QUIET_SECONDS)
        assert event is not None, f"events stopped after {[(e.kind, e.data) for e in seen]}"
        seen.append(event)
    return seen


def collect(events: Subscription, kind: str, phase: str | None = None) -> list[Event]:
    """Events up to the next of ``kind`` (and ``phase``), that one last."""
    return collect_until(events, lambda seen: is_event(seen[-1], kind, phase))


def next_of(events: Subscription, kind: str, phase: str | None = None) -> Event:
    """The next event of ``kind`` (and ``phase``), skipping others."""
    return collect(events, kind, phase)[-1]


def first_of(seen: list[Event], kind: str, phase: str | None = None) -> Event:
    """The first of ``kind`` (and ``phase``) among ``seen``."""
    return next(e for e in seen if is_event(e, kind, phase))
