"""Waiting for files another process makes, woken by inotify instead of slept for."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer


class _Nudge(FileSystemEventHandler):
    def __init__(self, event: threading.Event) -> None:
        self._event = event

    def on_any_event(self, event: FileSystemEvent) -> None:
        self._event.set()


def wait_for(done: Callable[[], bool], folders: Iterable[Path], timeout: float = 60.0) -> None:
    """Return once ``done()`` holds, checking it whenever something changes in ``folders``
    (recursively); fail after ``timeout`` seconds without it."""
    changed = threading.Event()
    observer = Observer(timeout=0.2)
    for folder in folders:
        observer.schedule(_Nudge(changed), str(folder), recursive=True)
    observer.start()
    try:
        # A bounded wait per check: a change inside a folder made after the watch began
        # is not always reported by inotify.
        deadline = time.monotonic() + timeout
        while not done():
            remaining = deadline - time.monotonic()
            assert remaining > 0, "timed out"
            changed.wait(min(1.0, remaining))
            changed.clear()
    finally:
        observer.stop()
        observer.join()
