"""Crash points: let a test kill the station at an exact step of its work.

Production code calls :func:`checkpoint` at the steps where a power cut is most
dangerous (between writing a file and recording it). Normally this costs one
dictionary look-up. When ``STATION_CRASHPOINT=name[:n]`` is set, the process kills
itself with SIGKILL the n-th time (default first) it reaches that point, which is
the same as pulling the plug there: no cleanup, no flush, no ``finally``.

``STATION_HOLDPOINT=name:fifo`` holds the thread that first reaches ``name`` until a
test has opened the FIFO ``fifo`` for writing and closed it again: the test then knows
the station is at that step, and changes the world (fills the disk) before it goes on.
"""

from __future__ import annotations

import os
import signal
import threading

ENV = "STATION_CRASHPOINT"
HOLD_ENV = "STATION_HOLDPOINT"

_hits: dict[str, int] = {}
_lock = threading.Lock()


def checkpoint(name: str) -> None:
    """Die here if the environment asks for a crash at ``name`` (or hold, see above)."""
    if os.environ.get(HOLD_ENV):
        _hold(name, os.environ[HOLD_ENV])
    wanted = os.environ.get(ENV)
    if not wanted:
        return
    point, _, nth = wanted.partition(":")
    if point != name:
        return
    with _lock:
        _hits[name] = _hits.get(name, 0) + 1
        count = _hits[name]
    if count >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)


def _hold(name: str, wanted: str) -> None:
    point, _, fifo = wanted.partition(":")
    if point != name:
        return
    with _lock:
        key = "hold:" + name
        _hits[key] = _hits.get(key, 0) + 1
        if _hits[key] != 1:
            return
    # Opening a FIFO for reading blocks until a writer comes; reading ends when it closes.
    with open(fifo, "rb") as rendezvous:
        rendezvous.read()
