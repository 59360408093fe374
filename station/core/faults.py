"""Crash points: let a test kill the station at an exact step of its work.

Production code calls :func:`checkpoint` at the steps where a power cut is most
dangerous (between writing a file and recording it). Normally this costs one
dictionary look-up. When ``STATION_CRASHPOINT=name[:n]`` is set, the process kills
itself with SIGKILL the n-th time (default first) it reaches that point, which is
the same as pulling the plug there: no cleanup, no flush, no ``finally``.
"""

from __future__ import annotations

import os
import signal
import threading

ENV = "STATION_CRASHPOINT"

_hits: dict[str, int] = {}
_lock = threading.Lock()


def checkpoint(name: str) -> None:
    """Die here if the environment asks for a crash at ``name``."""
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
