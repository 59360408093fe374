"""The LAN service's own small databases, under ``<data>/db/lan/``.

``pairing.json`` (pairing requests and paired collectors) and ``rescans.json`` are
TinyDB files on the crash-safe :class:`~station.store.storage.SafeJSONStorage`. They
live apart from the store's ``station.json`` because ``station pairing approve`` (a
technician's command) must change them while ``station serve`` holds the store's
lock: every change runs in a :meth:`LanDB.session`, which takes an ``flock`` on
``lan.lock`` and opens the file afresh, so two processes never lose each other's
writes and no stale TinyDB cache is ever read.

Readers on the request path (token checks) read ``pairing.json`` without the lock:
files are replaced by an atomic rename, so a reader sees the old or the new file,
and :meth:`LanDB.snapshot` re-reads it only when its inode or size changed.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tinydb import TinyDB

from station.store.storage import SafeJSONStorage

log = logging.getLogger(__name__)

PAIRING = "pairing.json"
RESCANS = "rescans.json"
LOCK = "lan.lock"


class LanDB:
    """The folder ``db/lan`` of one station's data."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._mutex = threading.Lock()
        self._snapshots: dict[str, tuple[tuple[int, int, int], dict[str, Any]]] = {}

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> LanDB:
        """The LAN databases of the station whose data folder is ``data_dir``."""
        return cls(data_dir / "db" / "lan")

    @contextlib.contextmanager
    def session(self, name: str = PAIRING) -> Iterator[TinyDB]:
        """The database ``name``, opened afresh, held exclusively by this process."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._mutex, open(self.folder / LOCK, "a+b") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            db = TinyDB(self.folder / name, storage=SafeJSONStorage)
            try:
                yield db
            finally:
                db.close()

    def snapshot(self, name: str = PAIRING) -> dict[str, Any]:
        """The whole database ``name`` as stored (tables of documents), read lock-free."""
        path = self.folder / name
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return {}
        signature = (st.st_ino, st.st_mtime_ns, st.st_size)
        cached = self._snapshots.get(name)
        if cached is not None and cached[0] == signature:
            return cached[1]
        data = SafeJSONStorage(path).read() or {}
        self._snapshots[name] = (signature, data)
        return data
