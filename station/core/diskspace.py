"""Disk space of the data folder: how much is free, and the reserve captures keep.

The station keeps ``storage.reserve_mb`` free: below it, intake refuses a new capture
(:class:`DiskFullError`) *before* writing anything, so every page already captured stays
safe. What may be cleaned to make room is :mod:`station.system.storage_guard`'s concern.
"""

from __future__ import annotations

import errno
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from station.core import messages
from station.core.errors import DiskFullError

MB = 1024 * 1024
OK, WARN, FULL = "ok", "warn", "full"


@dataclass(frozen=True)
class StorageState:
    """Space on the data folder's disk, and what the screen should say about it."""

    path: str
    total_mb: int
    free_mb: int
    reserve_mb: int
    warn_mb: int

    @property
    def used_mb(self) -> int:
        return self.total_mb - self.free_mb

    @property
    def level(self) -> str:
        """ "full" below the reserve, "warn" below the warning level, else "ok"."""
        if self.free_mb < self.reserve_mb:
            return FULL
        return WARN if self.free_mb < max(self.warn_mb, self.reserve_mb) else OK

    def message(self, lang: str) -> str:
        return messages.render(
            f"storage.{self.level}", lang, free_mb=self.free_mb, reserve_mb=self.reserve_mb
        )

    def to_dict(self) -> dict[str, Any]:
        """For ``Station.status()``: figures, level, and the message in each language."""
        return {
            "path": self.path,
            "total_mb": self.total_mb,
            "used_mb": self.used_mb,
            "free_mb": self.free_mb,
            "reserve_mb": self.reserve_mb,
            "warn_mb": self.warn_mb,
            "level": self.level,
            "message": {lang: self.message(lang) for lang in messages.LANGUAGES},
        }


def measure(path: Path, reserve_mb: int, warn_mb: int = 0) -> StorageState:
    """Space on the disk holding ``path`` (or its nearest existing parent)."""
    existing = next((p for p in (path, *path.parents) if p.exists()), Path("/"))
    usage = shutil.disk_usage(existing)
    return StorageState(str(path), usage.total // MB, usage.free // MB, reserve_mb, warn_mb)


def check_room(path: Path, reserve_mb: int, incoming: int = 0) -> None:
    """Raise :class:`DiskFullError` when writing ``incoming`` bytes would eat the reserve."""
    free = shutil.disk_usage(path).free
    if free - incoming < reserve_mb * MB:
        raise DiskFullError(free_mb=free // MB, reserve_mb=reserve_mb)


#: OSError numbers that mean "no room": the disk or the user's quota is full.
NO_ROOM = frozenset({errno.ENOSPC, errno.EDQUOT})


def is_disk_full(exc: BaseException | None) -> bool:
    """Whether ``exc``, or an error it was raised from, says the disk is full."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, DiskFullError):
            return True
        if isinstance(exc, OSError) and exc.errno in NO_ROOM:
            return True
        exc = exc.__cause__ or exc.__context__
    return False
